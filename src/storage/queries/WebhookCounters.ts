/**
 * Batched increments of `webhook_counters` and `webhook_rejections`.
 *
 * Each batch is one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE`
 * that adds the deltas to the stored totals. Postgres applies each addition
 * to the latest committed row, so concurrent batches lose no count, and a
 * batch of any size costs one round trip and one prepared statement.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { Statement } from "effect/sql/Statement"

export interface WebhookCounterDelta {
  readonly providerKey: string
  /** Absent or `""` for the provider-wide endpoint. */
  readonly endpointId?: string
  readonly received?: number
  readonly accepted?: number
  readonly rejected?: number
  readonly duplicates?: number
  readonly delivered?: number
  readonly failed?: number
  readonly deadLettered?: number
}

export interface WebhookRejectionDelta {
  readonly providerKey: string
  readonly endpointId?: string
  /** Rejection code, such as `signature_mismatch`. */
  readonly reason: string
  readonly count: number
}

const COUNTERS = [
  "received",
  "accepted",
  "rejected",
  "duplicates",
  "delivered",
  "failed",
  "deadLettered",
] as const

type Totals = Record<(typeof COUNTERS)[number], bigint>

/** Orders strings by UTF-16 code units, the same on every instance and locale. */
const compareCodeUnits = (a: string, b: string): number => {
  if (a === b) return 0
  return a < b ? -1 : 1
}

/**
 * Sums the rows per key and sorts them by key. One statement may not update
 * a row twice, and taking row locks in key order keeps two concurrent batches
 * from deadlocking on each other.
 */
const mergeByKey = <A>(
  rows: ReadonlyArray<A>,
  keyOf: (row: A) => ReadonlyArray<string>,
  add: (total: A | undefined, row: A) => A,
): ReadonlyArray<A> => {
  const merged = new Map<string, A>()
  for (const row of rows) {
    const key = JSON.stringify(keyOf(row))
    merged.set(key, add(merged.get(key), row))
  }
  const keys = [...merged.keys()].sort(compareCodeUnits)
  return keys.map((key) => merged.get(key)!)
}

interface CounterRow {
  readonly providerKey: string
  readonly endpointId: string
  readonly totals: Totals
}

const toCounterRow = (delta: WebhookCounterDelta): CounterRow => {
  const totals = {} as Record<(typeof COUNTERS)[number], bigint>
  for (const name of COUNTERS) totals[name] = BigInt(delta[name] ?? 0)
  return { providerKey: delta.providerKey, endpointId: delta.endpointId ?? "", totals }
}

/** Builds the upsert for a non-empty batch; exported for the query plan test. */
export const counterUpsert = (
  sql: SqlClient,
  deltas: ReadonlyArray<WebhookCounterDelta>,
): Statement<never> => {
  const rows = mergeByKey(
    deltas.map(toCounterRow),
    (row) => [row.providerKey, row.endpointId],
    (total, row) => {
      if (total === undefined) return row
      const totals = { ...total.totals }
      for (const name of COUNTERS) totals[name] += row.totals[name]
      return { ...total, totals }
    },
  )
  const column = (name: (typeof COUNTERS)[number]) => rows.map((row) => row.totals[name])

  return sql`INSERT INTO webhook_counters AS c (provider_key, endpoint_id, received, accepted,
      rejected, duplicates, delivered, failed, dead_lettered)
    SELECT * FROM unnest(
      ${rows.map((row) => row.providerKey)}::text[], ${rows.map((row) => row.endpointId)}::text[],
      ${column("received")}::bigint[], ${column("accepted")}::bigint[],
      ${column("rejected")}::bigint[], ${column("duplicates")}::bigint[],
      ${column("delivered")}::bigint[], ${column("failed")}::bigint[],
      ${column("deadLettered")}::bigint[])
    ON CONFLICT (provider_key, endpoint_id) DO UPDATE SET
      received = c.received + excluded.received,
      accepted = c.accepted + excluded.accepted,
      rejected = c.rejected + excluded.rejected,
      duplicates = c.duplicates + excluded.duplicates,
      delivered = c.delivered + excluded.delivered,
      failed = c.failed + excluded.failed,
      dead_lettered = c.dead_lettered + excluded.dead_lettered,
      updated_at = now()`
}

/** Adds the deltas to `webhook_counters` in one statement; an empty batch does nothing. */
export const incrementWebhookCounters = (
  deltas: ReadonlyArray<WebhookCounterDelta>,
): Effect.Effect<void, SqlError, SqlClient> =>
  Effect.gen(function* () {
    if (deltas.length === 0) return
    const sql = yield* SqlClient
    yield* counterUpsert(sql, deltas)
  })

/** Adds the counts to `webhook_rejections` in one statement; an empty batch does nothing. */
export const incrementWebhookRejections = (
  deltas: ReadonlyArray<WebhookRejectionDelta>,
): Effect.Effect<void, SqlError, SqlClient> =>
  Effect.gen(function* () {
    if (deltas.length === 0) return

    const sql = yield* SqlClient
    const rows = mergeByKey(
      deltas.map((delta) => ({ ...delta, endpointId: delta.endpointId ?? "" })),
      (row) => [row.providerKey, row.endpointId, row.reason],
      (total, row) => (total === undefined ? row : { ...total, count: total.count + row.count }),
    )
    yield* sql`INSERT INTO webhook_rejections AS r (provider_key, endpoint_id, reason, count)
      SELECT * FROM unnest(
        ${rows.map((row) => row.providerKey)}::text[],
        ${rows.map((row) => row.endpointId)}::text[],
        ${rows.map((row) => row.reason)}::text[],
        ${rows.map((row) => BigInt(row.count))}::bigint[])
      ON CONFLICT (provider_key, endpoint_id, reason) DO UPDATE SET
        count = r.count + excluded.count,
        updated_at = now()`
  })
