/**
 * Read queries behind the analytics API. They read the aggregate tables only:
 * the per-minute table for `minute`, the per-hour table for `hour` and `day`.
 *
 * User input reaches ClickHouse only as bound `{name:Type}` parameters; the
 * SQL text is assembled from constants. Counts are distinct event ids, so an
 * event inserted twice counts once. Quantiles come from DDSketch states with
 * 1 % relative accuracy: each returned value is within 1 % of the value at
 * its rank.
 */
import { Effect, Schema } from "effect"
import { ClickHouse } from "./ClickHouse.ts"
import type { QueryParams } from "./ClickHouseAdapter.ts"
import type { ClickHouseError } from "./ClickHouseError.ts"
import { TABLES } from "./Tables.ts"

export type Interval = "minute" | "hour" | "day"

export interface StatsFilter {
  readonly interval: Interval
  /** Start of the range, inclusive: buckets that start at or after it. */
  readonly from: Date
  /** End of the range, exclusive: buckets that start before it. */
  readonly to: Date
  readonly provider?: string
  readonly organization_id?: string
}

/** Most buckets one query may return per provider, so a minute query cannot span years. */
export const MAX_BUCKETS = 10_000

const INTERVAL_MILLIS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

export class StatsQueryError extends Schema.TaggedError<StatsQueryError>()("StatsQueryError", {
  reason: Schema.Literals(["invalid_range"]),
  message: Schema.String,
}) {
  readonly code = "invalid_analytics_query"
}

/** Counts of distinct events; percentiles in milliseconds, `null` when the bucket has no measurement. */
export interface WebhookStatsRow {
  /** Bucket start, ISO 8601 UTC. */
  readonly bucket: string
  readonly provider: string
  readonly received: number
  readonly accepted: number
  readonly rejected: number
  readonly duplicates: number
  readonly delivered: number
  readonly failed: number
  readonly dead_lettered: number
  readonly ack_ms_p50: number | null
  readonly ack_ms_p95: number | null
  readonly ack_ms_p99: number | null
  readonly processing_ms_p50: number | null
  readonly processing_ms_p95: number | null
  readonly processing_ms_p99: number | null
}

export interface OAuthStatsRow {
  /** Bucket start, ISO 8601 UTC. */
  readonly bucket: string
  readonly provider: string
  readonly started: number
  readonly connected: number
  readonly denied: number
  readonly failed: number
  readonly refresh_success: number
  readonly refresh_failed: number
  readonly refresh_needs_reauth: number
  readonly callback_ms_p50: number | null
  readonly callback_ms_p95: number | null
  readonly callback_ms_p99: number | null
  readonly refresh_ms_p50: number | null
  readonly refresh_ms_p95: number | null
  readonly refresh_ms_p99: number | null
}

/** Merges DDSketch states into the 50th, 95th and 99th percentiles. */
const QUANTILES = "quantilesDDMerge(0.01, 0.5, 0.95, 0.99)"

const Count = Schema.Number
const Quantiles = Schema.Array(Schema.NullOr(Schema.Number))

interface Plan {
  readonly tableOf: (tables: { minute: string; hour: string }) => string
  readonly bucket: string
  readonly where: string
  readonly params: QueryParams
}

const plan = (filter: StatsFilter): Effect.Effect<Plan, StatsQueryError> => {
  const from = filter.from.getTime()
  const to = filter.to.getTime()
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    return Effect.fail(
      new StatsQueryError({
        reason: "invalid_range",
        message: "from must be a valid time before to",
      }),
    )
  }
  if ((to - from) / INTERVAL_MILLIS[filter.interval] > MAX_BUCKETS) {
    return Effect.fail(
      new StatsQueryError({
        reason: "invalid_range",
        message: `The range spans more than ${MAX_BUCKETS.toLocaleString("en-US")} ${filter.interval} buckets; use a longer interval`,
      }),
    )
  }

  const conditions = [
    "bucket >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')",
    "bucket < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')",
  ]
  const params: Record<string, string | number> = { from_ms: from, to_ms: to }
  if (filter.provider !== undefined) {
    conditions.push("provider = {provider:String}")
    params.provider = filter.provider
  }
  if (filter.organization_id !== undefined) {
    conditions.push("organization_id = {organization_id:String}")
    params.organization_id = filter.organization_id
  }
  return Effect.succeed({
    tableOf: (tables) => (filter.interval === "minute" ? tables.minute : tables.hour),
    bucket: filter.interval === "day" ? "toStartOfDay(bucket)" : "bucket",
    where: conditions.join(" AND "),
    params,
  })
}

const percentile = (values: ReadonlyArray<number | null>, index: number): number | null =>
  values[index] ?? null

const bucketIso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString()

const WebhookRow = Schema.Struct({
  bucket_start: Schema.Number,
  provider: Schema.String,
  received: Count,
  accepted: Count,
  rejected: Count,
  duplicates: Count,
  delivered: Count,
  failed: Count,
  dead_lettered: Count,
  ack_ms: Quantiles,
  processing_ms: Quantiles,
})

/** Webhook outcome counts and latency percentiles per bucket and provider. */
export const webhookStats = (
  filter: StatsFilter,
): Effect.Effect<ReadonlyArray<WebhookStatsRow>, ClickHouseError | StatsQueryError, ClickHouse> =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const { tableOf, bucket, where, params } = yield* plan(filter)
    const count = (outcome: string) => `uniqExactMergeIf(event_ids, outcome = '${outcome}')`
    const rows = yield* clickhouse.query(
      `SELECT
         toUnixTimestamp(${bucket}) AS bucket_start,
         provider,
         ${count("received")} AS received,
         ${count("accepted")} AS accepted,
         ${count("rejected")} AS rejected,
         ${count("duplicate")} AS duplicates,
         ${count("delivered")} AS delivered,
         ${count("failed")} AS failed,
         ${count("dead_lettered")} AS dead_lettered,
         ${QUANTILES}(ack_ms_quantiles) AS ack_ms,
         ${QUANTILES}(processing_ms_quantiles) AS processing_ms
       FROM ${tableOf(TABLES.webhook)}
       WHERE ${where}
       GROUP BY bucket_start, provider
       ORDER BY bucket_start, provider`,
      params,
    )
    const decoded = yield* Schema.decodeUnknownEffect(Schema.Array(WebhookRow))(rows).pipe(
      Effect.orDie,
    )
    return decoded.map(({ bucket_start, ack_ms, processing_ms, ...counts }) => ({
      ...counts,
      bucket: bucketIso(bucket_start),
      ack_ms_p50: percentile(ack_ms, 0),
      ack_ms_p95: percentile(ack_ms, 1),
      ack_ms_p99: percentile(ack_ms, 2),
      processing_ms_p50: percentile(processing_ms, 0),
      processing_ms_p95: percentile(processing_ms, 1),
      processing_ms_p99: percentile(processing_ms, 2),
    }))
  }).pipe(Effect.withSpan("Queries.webhookStats"))

const OAuthRow = Schema.Struct({
  bucket_start: Schema.Number,
  provider: Schema.String,
  started: Count,
  connected: Count,
  denied: Count,
  failed: Count,
  refresh_success: Count,
  refresh_failed: Count,
  refresh_needs_reauth: Count,
  callback_ms: Quantiles,
  refresh_ms: Quantiles,
})

/** OAuth flow outcomes, refresh outcomes and their latency percentiles per bucket and provider. */
export const oauthStats = (
  filter: StatsFilter,
): Effect.Effect<ReadonlyArray<OAuthStatsRow>, ClickHouseError | StatsQueryError, ClickHouse> =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const { tableOf, bucket, where, params } = yield* plan(filter)
    const count = (condition: string) => `uniqExactMergeIf(event_ids, ${condition})`
    // Each side is aggregated on its own, and the FULL JOIN lines them up.
    // A side without rows in a bucket contributes zeros and empty arrays.
    const rows = yield* clickhouse.query(
      `SELECT
         toUnixTimestamp(bucket_time) AS bucket_start,
         provider,
         started, connected, denied, failed,
         refresh_success, refresh_failed, refresh_needs_reauth,
         callback_ms, refresh_ms
       FROM (
         SELECT
           ${bucket} AS bucket_time,
           provider,
           ${count("stage = 'started'")} AS started,
           ${count("stage = 'callback' AND outcome = 'connected'")} AS connected,
           ${count("stage = 'callback' AND outcome = 'denied'")} AS denied,
           ${count("stage = 'callback' AND outcome = 'failed'")} AS failed,
           ${QUANTILES}(callback_ms_quantiles) AS callback_ms
         FROM ${tableOf(TABLES.oauth_flow)}
         WHERE ${where}
         GROUP BY bucket_time, provider
       ) AS flows
       FULL OUTER JOIN (
         SELECT
           ${bucket} AS bucket_time,
           provider,
           ${count("outcome = 'success'")} AS refresh_success,
           ${count("outcome = 'failed'")} AS refresh_failed,
           ${count("outcome = 'needs_reauth'")} AS refresh_needs_reauth,
           ${QUANTILES}(refresh_ms_quantiles) AS refresh_ms
         FROM ${tableOf(TABLES.token_refresh)}
         WHERE ${where}
         GROUP BY bucket_time, provider
       ) AS refreshes USING (bucket_time, provider)
       ORDER BY bucket_start, provider`,
      params,
    )
    const decoded = yield* Schema.decodeUnknownEffect(Schema.Array(OAuthRow))(rows).pipe(
      Effect.orDie,
    )
    return decoded.map(({ bucket_start, callback_ms, refresh_ms, ...counts }) => ({
      ...counts,
      bucket: bucketIso(bucket_start),
      callback_ms_p50: percentile(callback_ms, 0),
      callback_ms_p95: percentile(callback_ms, 1),
      callback_ms_p99: percentile(callback_ms, 2),
      refresh_ms_p50: percentile(refresh_ms, 0),
      refresh_ms_p95: percentile(refresh_ms, 1),
      refresh_ms_p99: percentile(refresh_ms, 2),
    }))
  }).pipe(Effect.withSpan("Queries.oauthStats"))
