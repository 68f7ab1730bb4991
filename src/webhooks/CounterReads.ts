/** Reads the webhook totals written by `WebhookCounters`, with rejections by reason. */
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

export interface WebhookCounterTotals {
  readonly provider: string
  /** `""` for the provider-wide route. */
  readonly endpointId: string
  readonly received: number
  readonly accepted: number
  readonly rejected: number
  readonly rejectedByReason: Readonly<Record<string, number>>
  readonly duplicates: number
  readonly delivered: number
  readonly failed: number
  readonly deadLettered: number
  readonly updatedAt: Date
}

interface CounterRow {
  readonly provider_key: string
  readonly endpoint_id: string
  readonly received: string
  readonly accepted: string
  readonly rejected: string
  readonly duplicates: string
  readonly delivered: string
  readonly failed: string
  readonly dead_lettered: string
  readonly updated_at: Date
}

interface RejectionRow {
  readonly provider_key: string
  readonly endpoint_id: string
  readonly reason: string
  readonly count: string
}

/** Returns the totals of every provider, or of one, ordered by provider and endpoint. */
export const readWebhookCounters = (
  provider: string | undefined,
): Effect.Effect<ReadonlyArray<WebhookCounterTotals>, SqlError, SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const filter = provider === undefined ? sql`TRUE` : sql`provider_key = ${provider}`
    // bigint columns come back as text. The JSON response converts them to
    // numbers, which are exact up to 2^53.
    const counters = yield* sql<CounterRow>`SELECT provider_key, endpoint_id,
        received::text, accepted::text, rejected::text, duplicates::text, delivered::text,
        failed::text, dead_lettered::text, updated_at
      FROM webhook_counters WHERE ${filter} ORDER BY provider_key, endpoint_id`
    const rejections = yield* sql<RejectionRow>`SELECT provider_key, endpoint_id, reason,
        count::text FROM webhook_rejections WHERE ${filter}`

    const reasons = new Map<string, Record<string, number>>()
    for (const row of rejections) {
      const key = `${row.provider_key}\u0000${row.endpoint_id}`
      const byReason = reasons.get(key) ?? {}
      byReason[row.reason] = Number(row.count)
      reasons.set(key, byReason)
    }

    return counters.map((row) => ({
      provider: row.provider_key,
      endpointId: row.endpoint_id,
      received: Number(row.received),
      accepted: Number(row.accepted),
      rejected: Number(row.rejected),
      rejectedByReason: reasons.get(`${row.provider_key}\u0000${row.endpoint_id}`) ?? {},
      duplicates: Number(row.duplicates),
      delivered: Number(row.delivered),
      failed: Number(row.failed),
      deadLettered: Number(row.dead_lettered),
      updatedAt: row.updated_at,
    }))
  })
