/**
 * The HTTP adapter against a real `clickhouse-server` started by the test.
 *
 * Debian bookworm ships release 18.16, older than the analytics schema
 * (DateTime64, quantilesDD, query parameters and insert_deduplication_token
 * all came later), so these tests use a table every release accepts and
 * statements without `{name:Type}` parameters. The schema and the queries are
 * tested on chDB.
 */
import { inspect } from "node:util"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Metric, Redacted } from "effect"
import { run } from "../../src/analytics/BatchWriter.ts"
import { ClickHouse, type ClickHouseError } from "../../src/analytics/ClickHouse.ts"
import { encodeEvent } from "../../src/analytics/Events.ts"
import * as HttpAdapter from "../../src/analytics/HttpAdapter.ts"
import * as WriterMetrics from "../../src/analytics/WriterMetrics.ts"
import {
  type ClickHouseServer,
  freePort,
  makeServer,
  serverBinary,
  TEST_PASSWORD,
  TEST_USER,
} from "./support/ClickHouseServer.ts"
import { MemoryStream, waitUntil } from "./support/MemoryStream.ts"
import { generateEvents } from "./support/SyntheticEvents.ts"

class TestServer extends Context.Service<TestServer, ClickHouseServer>()(
  "test/analytics/TestServer",
) {}

const ServerLive = Layer.effect(
  TestServer,
  Effect.gen(function* () {
    const server = yield* makeServer(serverBinary!)
    yield* server.start
    return server
  }),
)

const ClickHouseLive = Layer.effect(
  ClickHouse,
  Effect.gen(function* () {
    const server = yield* TestServer
    return yield* HttpAdapter.make({ url: server.url, requestTimeout: "5 seconds" })
  }),
).pipe(Layer.provideMerge(ServerLive))

/** Every text form in which a secret could leak from an error. */
const renderings = (error: ClickHouseError): ReadonlyArray<string> => [
  error.message,
  String(error),
  JSON.stringify(error),
  inspect(error, { depth: 10 }),
]

const expectNoSecret = (error: ClickHouseError, secret: string): void => {
  for (const text of renderings(error)) expect(text).not.toContain(secret)
}

const urlFor = (server: ClickHouseServer, password: string) =>
  Redacted.make(`http://${TEST_USER}:${password}@127.0.0.1:${server.httpPort}`)

if (serverBinary === undefined) {
  console.warn(
    "Skipping the HTTP adapter tests: clickhouse-server is not installed. " +
      "Install it with `apt-get install -y clickhouse-server` or set CLICKHOUSE_SERVER_BIN.",
  )
}

describe.skipIf(serverBinary === undefined)("HttpAdapter against clickhouse-server", () => {
  layer(ClickHouseLive, { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("inserts rows and reads them back", () =>
      Effect.gen(function* () {
        const clickhouse = yield* ClickHouse
        yield* clickhouse.command(
          "CREATE TABLE IF NOT EXISTS probe_rows (id String, n UInt32) ENGINE = MergeTree ORDER BY id",
        )
        yield* clickhouse.insert("probe_rows", [
          { id: "a", n: 1 },
          { id: "b", n: 2 },
          { id: "c", n: 3 },
        ])
        const rows = yield* clickhouse.query<{ id: string; n: number }>(
          "SELECT id, n FROM probe_rows ORDER BY id",
        )
        const [total] = yield* clickhouse.query<{ total: number }>(
          "SELECT sum(n) AS total FROM probe_rows",
        )

        expect(rows).toEqual([
          { id: "a", n: 1 },
          { id: "b", n: 2 },
          { id: "c", n: 3 },
        ])
        expect(total).toEqual({ total: 6 })
        yield* clickhouse.ping
        expect(clickhouse.describe()).toMatch(/^ClickHouse 18\.16|^ClickHouse \d+\./)
        expect(clickhouse.describe()).not.toContain(TEST_PASSWORD)
      }),
    )

    it.effect("maps a server exception to query_failed with its code", () =>
      Effect.gen(function* () {
        const clickhouse = yield* ClickHouse
        const error = yield* Effect.flip(clickhouse.query("SELECT * FROM missing_table"))

        expect(error.reason).toBe("query_failed")
        expect(error.code).toBe("clickhouse_error")
        expect(error.serverCode).toBe(60)
        expect(error.message).toContain("code 60")
        expect(error.message).toContain("missing_table")
        expectNoSecret(error, TEST_PASSWORD)
      }),
    )

    it.effect("rejects a wrong password without echoing it", () =>
      Effect.gen(function* () {
        const server = yield* TestServer
        const wrong = "wrong-pw-Zq81"
        const error = yield* Effect.flip(
          Effect.scoped(
            HttpAdapter.make({ url: urlFor(server, wrong), requestTimeout: "5 seconds" }),
          ),
        )

        expect(error.reason).toBe("query_failed")
        // 193 WRONG_PASSWORD on release 18.16, 516 AUTHENTICATION_FAILED on later ones.
        expect([193, 516]).toContain(error.serverCode)
        expectNoSecret(error, wrong)
      }),
    )

    it.effect("fails with timeout when a query outlasts the request timeout", () =>
      Effect.gen(function* () {
        const server = yield* TestServer
        const clickhouse = yield* HttpAdapter.make({
          url: urlFor(server, TEST_PASSWORD),
          requestTimeout: "300 millis",
        })
        const error = yield* Effect.flip(clickhouse.query("SELECT sleep(2)"))

        expect(error.reason).toBe("timeout")
        expectNoSecret(error, TEST_PASSWORD)
      }),
    )

    it.effect("fails with unavailable when nothing listens", () =>
      Effect.gen(function* () {
        const port = yield* Effect.promise(freePort)
        const url = Redacted.make(`http://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:${port}`)
        const error = yield* Effect.flip(
          Effect.scoped(HttpAdapter.make({ url, requestTimeout: "5 seconds" })),
        )

        expect(error.reason).toBe("unavailable")
        expectNoSecret(error, TEST_PASSWORD)
      }),
    )

    it.effect("keeps events in the stream while the server is down", () =>
      Effect.gen(function* () {
        const server = yield* TestServer
        const clickhouse = yield* ClickHouse
        yield* clickhouse.command(
          "CREATE TABLE IF NOT EXISTS probe_events (event_id String, raw_table String) " +
            "ENGINE = MergeTree ORDER BY event_id",
        )
        // Release 18.16 has no analytics tables and rejects the
        // insert_deduplication_token setting, so this stand-in writes each
        // batch to a probe table through the real adapter, without the token.
        const probe = Layer.succeed(ClickHouse, {
          ...clickhouse,
          insert: (table, rows) =>
            clickhouse.insert(
              "probe_events",
              rows.map((row) => ({ event_id: row.event_id ?? "", raw_table: table })),
            ),
        })
        const events = generateEvents({
          count: 3000,
          seed: 5,
          start: Date.now() - 3_600_000,
          spanMillis: 3_600_000,
          providers: ["slack"],
          organizations: ["org-a"],
        }).filter((event) => event.kind === "webhook")
        const half = Math.floor(events.length / 2)
        const failures = Metric.withAttributes(WriterMetrics.insertFailures, {
          table: "webhook_events",
          reason: "unavailable",
        })

        const stream = new MemoryStream()
        const writer = yield* Effect.forkChild(
          run(stream, {
            maxRows: 100,
            maxDelay: "50 millis",
            retryBase: "50 millis",
            retryMax: "500 millis",
          }).pipe(Effect.provide(probe)),
        )
        for (const event of events.slice(0, half)) stream.append(encodeEvent(event))
        yield* waitUntil(() => stream.allAcked())

        yield* server.stop
        expect((yield* Effect.flip(clickhouse.ping)).reason).toBe("unavailable")
        const failuresBefore = (yield* Metric.value(failures)).count
        for (const event of events.slice(half)) stream.append(encodeEvent(event))
        const failuresAtLeast = (count: number) =>
          Effect.gen(function* () {
            while ((yield* Metric.value(failures)).count < failuresBefore + count) {
              yield* Effect.sleep("20 millis")
            }
          })
        yield* failuresAtLeast(1)
        const readsDuringOutage = stream.nonEmptyReads
        yield* failuresAtLeast(3)

        expect(stream.nonEmptyReads).toBe(readsDuringOutage)
        expect(stream.acked.size).toBe(half)
        expect(stream.pendingCount).toBeLessThanOrEqual(100)

        yield* server.start
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        const [counts] = yield* clickhouse.query<{ rows: number; ids: number }>(
          "SELECT count() AS rows, uniqExact(event_id) AS ids FROM probe_events",
        )
        expect(counts).toEqual({ rows: events.length, ids: events.length })
      }),
    )
  })
})
