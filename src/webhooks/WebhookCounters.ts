/**
 * Per provider and endpoint webhook totals, counted in memory on the request
 * and worker paths and added to Postgres once a second by a background
 * fiber, so counting never adds a database write to an acknowledgement.
 */
import { Context, type Duration, Effect, Layer, Schedule, Semaphore } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import {
  incrementWebhookCounters,
  incrementWebhookRejections,
  type WebhookCounterDelta,
  type WebhookRejectionDelta,
} from "../storage/queries/WebhookCounters.ts"

export type CounterName =
  | "received"
  | "accepted"
  | "duplicates"
  | "delivered"
  | "failed"
  | "deadLettered"

interface Bucket {
  received: number
  accepted: number
  duplicates: number
  delivered: number
  failed: number
  deadLettered: number
  rejected: number
  /** Rejections by reason; kept apart from `rejected` because it goes to its own table. */
  readonly reasons: Map<string, number>
}

const emptyBucket = (): Bucket => ({
  received: 0,
  accepted: 0,
  duplicates: 0,
  delivered: 0,
  failed: 0,
  deadLettered: 0,
  rejected: 0,
  reasons: new Map(),
})

export interface WebhookCountersShape {
  /** Adds `amount` (default 1) to a counter of the provider and endpoint. */
  readonly add: (
    provider: string,
    endpointId: string | undefined,
    counter: CounterName,
    amount?: number,
  ) => void
  /** Counts one rejection under `reason`, which also adds to `rejected`. */
  readonly reject: (provider: string, endpointId: string | undefined, reason: string) => void
  /** Writes the counts gathered so far; the background fiber calls it every interval. */
  readonly flush: Effect.Effect<void>
}

export class WebhookCounters extends Context.Service<WebhookCounters, WebhookCountersShape>()(
  "app/webhooks/WebhookCounters",
) {
  static readonly layer = (options: { readonly flushInterval?: Duration.Input } = {}) =>
    Layer.effect(WebhookCounters, make(options.flushInterval ?? "1 second"))
}

const toDeltas = (buckets: Map<string, Map<string, Bucket>>) => {
  const counters: Array<WebhookCounterDelta> = []
  const rejections: Array<WebhookRejectionDelta> = []
  for (const [providerKey, endpoints] of buckets) {
    for (const [endpointId, bucket] of endpoints) {
      for (const [reason, count] of bucket.reasons) {
        rejections.push({ providerKey, endpointId, reason, count })
      }
      counters.push({
        providerKey,
        endpointId,
        received: bucket.received,
        accepted: bucket.accepted,
        rejected: bucket.rejected,
        duplicates: bucket.duplicates,
        delivered: bucket.delivered,
        failed: bucket.failed,
        deadLettered: bucket.deadLettered,
      })
    }
  }
  return { counters, rejections }
}

const make = (flushInterval: Duration.Input) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<SqlClient>()
    let buckets = new Map<string, Map<string, Bucket>>()

    const bucketOf = (provider: string, endpointId: string | undefined): Bucket => {
      let endpoints = buckets.get(provider)
      if (endpoints === undefined) {
        endpoints = new Map()
        buckets.set(provider, endpoints)
      }
      const endpoint = endpointId ?? ""
      let bucket = endpoints.get(endpoint)
      if (bucket === undefined) {
        bucket = emptyBucket()
        endpoints.set(endpoint, bucket)
      }
      return bucket
    }

    const add: WebhookCountersShape["add"] = (provider, endpointId, counter, amount = 1) => {
      bucketOf(provider, endpointId)[counter] += amount
    }

    const reject: WebhookCountersShape["reject"] = (provider, endpointId, reason) => {
      const bucket = bucketOf(provider, endpointId)
      bucket.rejected += 1
      bucket.reasons.set(reason, (bucket.reasons.get(reason) ?? 0) + 1)
    }

    /** Puts counts of a failed write back, so the next flush retries them. */
    const restore = (flushed: Map<string, Map<string, Bucket>>, part: "totals" | "reasons") => {
      for (const [provider, endpoints] of flushed) {
        for (const [endpointId, old] of endpoints) {
          const bucket = bucketOf(provider, endpointId)
          if (part === "totals") {
            bucket.received += old.received
            bucket.accepted += old.accepted
            bucket.rejected += old.rejected
            bucket.duplicates += old.duplicates
            bucket.delivered += old.delivered
            bucket.failed += old.failed
            bucket.deadLettered += old.deadLettered
          } else {
            for (const [reason, count] of old.reasons) {
              bucket.reasons.set(reason, (bucket.reasons.get(reason) ?? 0) + count)
            }
          }
        }
      }
    }

    // The totals and the reasons are two statements. Each one's counts go
    // back only when that statement failed, so a retry never adds a count twice.
    // One flush runs at a time, so a caller that flushes before reading the
    // table also waits for a background flush that took the counts first.
    const oneAtATime = yield* Semaphore.make(1)
    const flush = Effect.suspend(() => {
      if (buckets.size === 0) return Effect.void
      const flushed = buckets
      buckets = new Map()
      const { counters, rejections } = toDeltas(flushed)

      const writeTotals = incrementWebhookCounters(counters).pipe(
        Effect.catch((error) =>
          Effect.sync(() => restore(flushed, "totals")).pipe(
            Effect.andThen(
              Effect.logWarning("could not write webhook counters; will retry", error),
            ),
          ),
        ),
      )
      const writeReasons = incrementWebhookRejections(rejections).pipe(
        Effect.catch((error) =>
          Effect.sync(() => restore(flushed, "reasons")).pipe(
            Effect.andThen(
              Effect.logWarning("could not write webhook rejection counts; will retry", error),
            ),
          ),
        ),
      )
      return Effect.andThen(writeTotals, writeReasons).pipe(Effect.provideContext(context))
    }).pipe(oneAtATime.withPermits(1))

    yield* flush.pipe(Effect.repeat(Schedule.spaced(flushInterval)), Effect.forkScoped)
    // The final flush on shutdown keeps the counts of the last interval.
    yield* Effect.addFinalizer(() => flush)

    return WebhookCounters.of({ add, reject, flush })
  })
