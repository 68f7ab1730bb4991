/**
 * The schema, materialized views and read queries on embedded chDB: counts
 * must equal what was sent, percentiles must lie within the sketch accuracy,
 * and repeated inserts must not change any count.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { batchToken, run } from "../../src/analytics/BatchWriter.ts"
import { ClickHouse, layer as clickHouseLayer } from "../../src/analytics/ClickHouse.ts"
import { type AnalyticsEvent, EVENT_KINDS, encodeEvent } from "../../src/analytics/Events.ts"
import { oauthStats, webhookStats } from "../../src/analytics/Queries.ts"
import { TABLES, toRow } from "../../src/analytics/Tables.ts"
import { expectOAuthRows, expectWebhookRows } from "./support/Expectations.ts"
import { MemoryStream, waitUntil } from "./support/MemoryStream.ts"
import {
  expectedOAuthStats,
  expectedWebhookStats,
  generateEvents,
} from "./support/SyntheticEvents.ts"

const dataDir = mkdtempSync(join(tmpdir(), "analytics-aggregates-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const ClickHouseTest = clickHouseLayer({ url: undefined, dataDir, ttlDays: 90 })

const DAY = 86_400_000

/**
 * 22:00 UTC two days ago, so three hours of events span two days. Events
 * must be recent: rows older than the tables' TTL are dropped.
 */
const START = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 22 * 3_600_000
const SPAN = 3 * 3_600_000

const countRows = (sql: string) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = yield* clickhouse.query<{ n: number }>(sql)
    return rows[0]?.n
  })

/** Distinct event ids per outcome in an aggregate table, for one provider. */
const outcomeCounts = (table: string, provider: string) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = yield* clickhouse.query<{ outcome: string; events: number; rows: number }>(
      `SELECT outcome, uniqExactMerge(event_ids) AS events, sum(inserted_rows) AS rows
       FROM ${table} WHERE provider = {provider:String} GROUP BY outcome ORDER BY outcome`,
      { provider },
    )
    return rows
  })

const insertBatch = (events: ReadonlyArray<AnalyticsEvent>, ids: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = events.map((event) => toRow(event).row)
    yield* clickhouse.insert(TABLES.webhook.raw, rows, {
      dedupToken: batchToken(TABLES.webhook.raw, ids),
    })
  })

layer(ClickHouseTest, { timeout: "60 seconds", excludeTestServices: true })(
  "aggregates on chDB",
  (it) => {
    it.effect(
      "counts 100,000 mixed events exactly at every interval",
      () =>
        Effect.gen(function* () {
          const events = generateEvents({
            count: 100_000,
            seed: 20_261_204,
            start: START,
            spanMillis: SPAN,
            providers: ["slack", "github", "google", "stripe"],
            organizations: ["", "org-a", "org-b", "org-c"],
          })
          const stream = new MemoryStream()
          for (const event of events) stream.append(encodeEvent(event))

          const writer = yield* Effect.forkChild(
            run(stream, { maxRows: 5000, maxDelay: "100 millis" }),
          )
          yield* waitUntil(() => stream.allAcked())
          yield* Fiber.interrupt(writer)

          for (const kind of EVENT_KINDS) {
            const sent = events.filter((event) => event.kind === kind).length
            expect(yield* countRows(`SELECT count() AS n FROM ${TABLES[kind].raw}`), kind).toBe(
              sent,
            )
            for (const table of [TABLES[kind].minute, TABLES[kind].hour]) {
              expect(
                yield* countRows(`SELECT uniqExactMerge(event_ids) AS n FROM ${table}`),
                table,
              ).toBe(sent)
              expect(yield* countRows(`SELECT sum(inserted_rows) AS n FROM ${table}`), table).toBe(
                sent,
              )
            }
          }

          const range = { from: new Date(START), to: new Date(START + SPAN) }
          for (const interval of ["minute", "hour", "day"] as const) {
            const from = interval === "day" ? new Date(START - 22 * 3_600_000) : range.from
            const to = interval === "day" ? new Date(START - 22 * 3_600_000 + 2 * DAY) : range.to
            expectWebhookRows(
              yield* webhookStats({ interval, from, to }),
              expectedWebhookStats(events, interval),
            )
            expectOAuthRows(
              yield* oauthStats({ interval, from, to }),
              expectedOAuthStats(events, interval),
            )
          }

          const filter = { provider: "github", organization_id: "org-a" }
          expectWebhookRows(
            yield* webhookStats({ interval: "hour", ...range, ...filter }),
            expectedWebhookStats(events, "hour", filter),
          )
          expectOAuthRows(
            yield* oauthStats({ interval: "minute", ...range, ...filter }),
            expectedOAuthStats(events, "minute", filter),
          )
        }),
      120_000,
    )

    it.effect("ignores a batch inserted twice with the same token", () =>
      Effect.gen(function* () {
        const events = generateEvents({
          count: 1000,
          seed: 7,
          start: START,
          spanMillis: SPAN,
          providers: ["twice"],
          organizations: ["org-a"],
        }).filter((event) => event.kind === "webhook")
        const ids = events.map((event) => event.event_id)
        const range = {
          interval: "minute" as const,
          from: new Date(START),
          to: new Date(START + SPAN),
        }

        yield* insertBatch(events, ids)
        const before = yield* webhookStats({ ...range, provider: "twice" })
        yield* insertBatch(events, ids)
        const after = yield* webhookStats({ ...range, provider: "twice" })

        expect(after).toEqual(before)
        expectWebhookRows(after, expectedWebhookStats(events, "minute"))
        const raw = `SELECT count() AS n FROM ${TABLES.webhook.raw} WHERE provider = 'twice'`
        expect(yield* countRows(raw)).toBe(events.length)
        for (const table of [TABLES.webhook.minute, TABLES.webhook.hour]) {
          const counts = yield* outcomeCounts(table, "twice")
          expect(
            counts.reduce((sum, row) => sum + row.rows, 0),
            table,
          ).toBe(events.length)
          expect(
            counts.reduce((sum, row) => sum + row.events, 0),
            table,
          ).toBe(events.length)
        }
      }),
    )

    it.effect("counts an event once when two batches share it", () =>
      Effect.gen(function* () {
        const events = generateEvents({
          count: 1000,
          seed: 11,
          start: START,
          spanMillis: SPAN,
          providers: ["overlap"],
          organizations: ["org-b"],
        }).filter((event) => event.kind === "webhook")
        const first = events.slice(0, Math.ceil(events.length * 0.6))
        const second = events.slice(Math.floor(events.length * 0.4))
        const shared = first.length + second.length - events.length

        yield* insertBatch(
          first,
          first.map((event) => event.event_id),
        )
        yield* insertBatch(
          second,
          second.map((event) => event.event_id),
        )

        // Counts ignore the repeats; the latency sketches saw every inserted row.
        const expected = expectedWebhookStats(events, "hour")
        for (const [key, group] of expectedWebhookStats([...first, ...second], "hour")) {
          Object.assign(expected.get(key)!.latencies, group.latencies)
        }
        const range = {
          interval: "hour" as const,
          from: new Date(START),
          to: new Date(START + SPAN),
        }
        expectWebhookRows(yield* webhookStats({ ...range, provider: "overlap" }), expected)
        const counts = yield* outcomeCounts(TABLES.webhook.minute, "overlap")
        expect(counts.reduce((sum, row) => sum + row.events, 0)).toBe(events.length)
        expect(counts.reduce((sum, row) => sum + row.rows, 0)).toBe(events.length + shared)
        const final = `SELECT count() AS n FROM ${TABLES.webhook.raw} FINAL WHERE provider = 'overlap'`
        expect(yield* countRows(final)).toBe(events.length)
      }),
    )

    it.effect("rejects a minute range of more than 10,000 buckets", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          webhookStats({
            interval: "minute",
            from: new Date(START),
            to: new Date(START + 8 * DAY),
          }),
        )
        expect(error._tag).toBe("StatsQueryError")
        expect(error.message).toContain("10,000 minute buckets")
      }),
    )
  },
)
