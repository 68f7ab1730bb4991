/**
 * The batch writer against embedded chDB and an in-memory stream: at-least-
 * once delivery without double counting, dead letters, flush by delay, and
 * backpressure while inserts fail.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Metric } from "effect"
import { type BatchWriterOptions, run, type StreamEntry } from "../../src/analytics/BatchWriter.ts"
import {
  ClickHouse,
  ClickHouseError,
  layer as clickHouseLayer,
} from "../../src/analytics/ClickHouse.ts"
import {
  type AnalyticsEvent,
  encodeEvent,
  encodeEventBatch,
  MAX_EVENTS_PER_ENTRY,
} from "../../src/analytics/Events.ts"
import { webhookStats } from "../../src/analytics/Queries.ts"
import { TABLES } from "../../src/analytics/Tables.ts"
import * as WriterMetrics from "../../src/analytics/WriterMetrics.ts"
import { expectWebhookRows } from "./support/Expectations.ts"
import { MemoryStream, waitUntil } from "./support/MemoryStream.ts"
import { expectedWebhookStats, generateEvents } from "./support/SyntheticEvents.ts"

const dataDir = mkdtempSync(join(tmpdir(), "analytics-writer-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const ClickHouseTest = clickHouseLayer({ url: undefined, dataDir, ttlDays: 90 })

const HOUR = 3_600_000
const START = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR

/** Webhook events of one provider, so each test reads only its own rows. */
const webhookEvents = (provider: string, count: number, seed: number): Array<AnalyticsEvent> =>
  generateEvents({
    count: count * 3,
    seed,
    start: START,
    spanMillis: 2 * HOUR,
    providers: [provider],
    organizations: ["org-a", "org-b"],
  })
    .filter((event) => event.kind === "webhook")
    .slice(0, count)

const countIn = (table: string, provider: string, final = false) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = yield* clickhouse.query<{ n: number }>(
      `SELECT count() AS n FROM ${table}${final ? " FINAL" : ""} WHERE provider = {provider:String}`,
      { provider },
    )
    return rows[0]?.n
  })

const insertedRows = (table: string, provider: string) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = yield* clickhouse.query<{ rows: number; events: number }>(
      `SELECT sum(inserted_rows) AS rows, uniqExactMerge(event_ids) AS events
       FROM ${table} WHERE provider = {provider:String}`,
      { provider },
    )
    return rows[0]
  })

const statsRange = {
  interval: "hour" as const,
  from: new Date(START),
  to: new Date(START + 3 * HOUR),
}

layer(ClickHouseTest, { timeout: "60 seconds", excludeTestServices: true })(
  "BatchWriter on chDB",
  (it) => {
    it.effect("doubles nothing after a crash between insert and ack", () =>
      Effect.gen(function* () {
        const events = webhookEvents("crash", 3000, 1)
        const stream = new MemoryStream()
        for (const event of events) stream.append(encodeEvent(event))

        // The second batch is inserted, then the writer stops inside its ack.
        let acks = 0
        const inAck = yield* Deferred.make<void>()
        stream.beforeAck = () => {
          acks += 1
          return acks === 2
            ? Effect.andThen(Deferred.succeed(inAck, undefined), Effect.never)
            : Effect.void
        }
        // Batches close only at maxRows, so the restarted writer forms the
        // same batches from the redelivered entries.
        const options: BatchWriterOptions = { maxRows: 1000, maxDelay: "1 hour" }
        const first = yield* Effect.forkChild(run(stream, options))
        yield* Deferred.await(inAck)
        yield* Fiber.interrupt(first)

        expect(stream.acked.size).toBe(1000)
        expect(yield* countIn(TABLES.webhook.raw, "crash")).toBe(2000)

        stream.beforeAck = () => Effect.void
        stream.restart()
        const second = yield* Effect.forkChild(run(stream, options))
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(second)

        expect(yield* countIn(TABLES.webhook.raw, "crash")).toBe(events.length)
        for (const table of [TABLES.webhook.minute, TABLES.webhook.hour]) {
          expect(yield* insertedRows(table, "crash"), table).toEqual({
            rows: events.length,
            events: events.length,
          })
        }
        expectWebhookRows(
          yield* webhookStats({ ...statsRange, provider: "crash" }),
          expectedWebhookStats(events, "hour"),
        )
      }),
    )

    it.effect("dead-letters invalid entries and inserts the rest", () =>
      Effect.gen(function* () {
        const events = webhookEvents("invalid-mix", 50, 2)
        const stream = new MemoryStream()
        const invalid = [
          stream.append("not json"),
          stream.append(JSON.stringify({ kind: "webhook", event_id: "not-a-uuid" })),
          stream.append(encodeEvent(events[0]!).replace('"kind":"webhook"', '"kind":"unknown"')),
        ]
        for (const event of events) stream.append(encodeEvent(event))

        const deadLetters: Array<{ entry: StreamEntry; reason: string }> = []
        const writer = yield* Effect.forkChild(
          run(stream, {
            maxDelay: "50 millis",
            deadLetter: (entry, reason) => Effect.sync(() => deadLetters.push({ entry, reason })),
          }),
        )
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        expect(deadLetters.map(({ entry }) => entry.id)).toEqual(invalid)
        for (const { reason } of deadLetters) expect(reason.length).toBeGreaterThan(0)
        expect(yield* countIn(TABLES.webhook.raw, "invalid-mix")).toBe(events.length)
      }),
    )

    it.effect("acknowledges packed entries once written", () =>
      Effect.gen(function* () {
        const events = webhookEvents("packed", 250, 5)
        const stream = new MemoryStream()
        const packed = [
          stream.append(encodeEventBatch(events.slice(0, 100))),
          stream.append(encodeEventBatch(events.slice(100, 200))),
          stream.append(encodeEventBatch(events.slice(200))),
        ]
        const ackCalls: Array<ReadonlyArray<string>> = []
        stream.beforeAck = (ids) => Effect.sync(() => ackCalls.push(ids))

        // Batches of 60 split every entry across two or three inserts.
        const writer = yield* Effect.forkChild(run(stream, { maxRows: 60, maxDelay: "50 millis" }))
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        expect(ackCalls.flat().sort()).toEqual(packed)
        expect(yield* countIn(TABLES.webhook.raw, "packed")).toBe(events.length)
        expect(yield* insertedRows(TABLES.webhook.minute, "packed")).toEqual({
          rows: events.length,
          events: events.length,
        })
      }),
    )

    it.effect("dead-letters invalid events of packed entries", () =>
      Effect.gen(function* () {
        const events = webhookEvents("packed-mix", 20, 6)
        const stream = new MemoryStream()
        const items: Array<unknown> = events.map((event) => JSON.parse(encodeEvent(event)))
        items.splice(3, 0, { kind: "webhook", event_id: "not-a-uuid" })
        const mixed = stream.append(JSON.stringify(items))
        const tooLong = stream.append(
          JSON.stringify(Array.from({ length: MAX_EVENTS_PER_ENTRY + 1 }, () => items[0])),
        )

        const deadLetters: Array<{ id: string; reason: string }> = []
        const writer = yield* Effect.forkChild(
          run(stream, {
            maxDelay: "50 millis",
            deadLetter: (entry, reason) =>
              Effect.sync(() => deadLetters.push({ id: entry.id, reason })),
          }),
        )
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        expect(deadLetters.map(({ id }) => id)).toEqual([mixed, tooLong])
        expect(deadLetters[0]!.reason).toMatch(/^event 3: /)
        expect(deadLetters[1]!.reason).toContain(`more than ${MAX_EVENTS_PER_ENTRY}`)
        expect(yield* countIn(TABLES.webhook.raw, "packed-mix")).toBe(events.length)
      }),
    )

    it.effect("inserts a partial batch once maxDelay passes", () =>
      Effect.gen(function* () {
        const events = webhookEvents("partial", 3, 3)
        const stream = new MemoryStream()
        for (const event of events) stream.append(encodeEvent(event))

        const writer = yield* Effect.forkChild(
          run(stream, { maxRows: 5000, maxDelay: "50 millis" }),
        )
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        expect(yield* countIn(TABLES.webhook.raw, "partial")).toBe(3)
      }),
    )

    it.effect("holds its entries and reads nothing while inserts fail", () =>
      Effect.gen(function* () {
        const clickhouse = yield* ClickHouse
        const events = webhookEvents("outage", 1000, 4)
        const stream = new MemoryStream()
        for (const event of events) stream.append(encodeEvent(event))

        // Inserts fail before reaching ClickHouse, as with a server that
        // refuses connections, until the test ends the outage.
        let outage = true
        let failedAttempts = 0
        const flaky = Layer.succeed(ClickHouse, {
          ...clickhouse,
          insert: (table, rows, options) =>
            Effect.suspend(() => {
              if (!outage) return clickhouse.insert(table, rows, options)
              failedAttempts += 1
              return Effect.fail(
                new ClickHouseError({ reason: "unavailable", message: "connection refused" }),
              )
            }),
        })
        const failures = Metric.withAttributes(WriterMetrics.insertFailures, {
          table: TABLES.webhook.raw,
          reason: "unavailable",
        })
        const failuresBefore = (yield* Metric.value(failures)).count

        const writer = yield* Effect.forkChild(
          run(stream, { maxRows: 100, maxDelay: "1 hour", retryBase: "20 millis" }).pipe(
            Effect.provide(flaky),
          ),
        )
        yield* waitUntil(() => failedAttempts >= 3)
        // maxRows 100 is one entry's worth of events, so the writer read one
        // entry at a time until the batch was full. No read follows while the
        // insert is failing.
        expect(stream.nonEmptyReads).toBe(100)
        expect(stream.pendingCount).toBe(100)
        expect(stream.acked.size).toBe(0)
        expect((yield* Metric.value(WriterMetrics.bufferedEvents)).value).toBe(100)

        outage = false
        yield* waitUntil(() => stream.allAcked())
        yield* Fiber.interrupt(writer)

        expect((yield* Metric.value(failures)).count - failuresBefore).toBe(failedAttempts)
        expect(yield* countIn(TABLES.webhook.raw, "outage")).toBe(events.length)
        expect((yield* Metric.value(WriterMetrics.bufferedEvents)).value).toBe(0)
      }),
    )
  },
)
