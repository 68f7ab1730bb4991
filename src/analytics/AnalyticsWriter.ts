/**
 * The worker that moves analytics events from the durable stream into
 * ClickHouse in micro-batches. Entries are acknowledged only after their
 * batch is inserted, so a crash leaves them pending. This or another worker
 * claims them again once they have been idle for `CLAIM_IDLE`.
 */
import { hostname } from "node:os"
import { Duration, Effect, Layer } from "effect"
import type { AppSettings } from "../config/AppConfig.ts"
import { StreamQueue } from "../storage/StreamQueue.ts"
import { ANALYTICS_STREAM } from "./AnalyticsEvents.ts"
import { type EventSource, run } from "./BatchWriter.ts"

export const ANALYTICS_GROUP = "analytics-writer"

/**
 * Entries pending this long belong to a stopped worker. It is longer than
 * the writer's longest retry delay (30 s), so a live writer's held batch is
 * not taken from it.
 */
const CLAIM_IDLE = Duration.seconds(45)
const CLAIM_EVERY = Duration.seconds(5)

export const AnalyticsWriterLive = (settings: AppSettings) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const queue = yield* StreamQueue
      const consumer = `${hostname()}-${process.pid}`
      yield* queue.ensureGroup(ANALYTICS_STREAM, ANALYTICS_GROUP)
      let lastClaimAt = 0

      const source: EventSource<unknown> = {
        read: (count, block) =>
          Effect.gen(function* () {
            const now = Date.now()
            if (now - lastClaimAt >= Duration.toMillis(CLAIM_EVERY)) {
              lastClaimAt = now
              const stale = yield* queue.claimStale(ANALYTICS_STREAM, ANALYTICS_GROUP, consumer, {
                minIdle: CLAIM_IDLE,
                count,
              })
              if (stale.length > 0) return stale
            }
            return yield* queue.read(ANALYTICS_STREAM, ANALYTICS_GROUP, consumer, { count, block })
          }),
        ack: (ids) => Effect.asVoid(queue.ack(ANALYTICS_STREAM, ANALYTICS_GROUP, ids)),
      }

      yield* Effect.logInfo("analytics writer started").pipe(
        Effect.annotateLogs({ consumer, max_rows: settings.analyticsBatchRows }),
      )
      yield* run(source, {
        maxRows: settings.analyticsBatchRows,
        maxDelay: settings.analyticsBatchDelay,
      }).pipe(Effect.forkScoped)
    }),
  )
