/**
 * The producer side of analytics: appends each event to the durable
 * analytics stream, from which the batch writer inserts it into ClickHouse.
 * Emitting never fails the caller's flow: when the stream store is down the
 * event is dropped, logged and counted, because a token refresh or a webhook
 * delivery must not fail for want of an analytics record.
 */
import { Context, Effect, Layer, Metric } from "effect"
import { StreamQueue } from "../storage/StreamQueue.ts"
import { type AnalyticsEvent, encodeEvent } from "./Events.ts"

/** The stream that carries analytics events from every producer to the batch writer. */
export const ANALYTICS_STREAM = "analytics:events"

const droppedTotal = Metric.counter("analytics_events_dropped_total", {
  description: "Analytics events not recorded because the stream store failed",
  incremental: true,
})

export class AnalyticsEvents extends Context.Service<
  AnalyticsEvents,
  {
    readonly emit: (event: AnalyticsEvent) => Effect.Effect<void>
    readonly emitMany: (events: ReadonlyArray<AnalyticsEvent>) => Effect.Effect<void>
  }
>()("app/analytics/AnalyticsEvents") {
  static readonly layer = Layer.effect(
    AnalyticsEvents,
    Effect.gen(function* () {
      const queue = yield* StreamQueue
      const emitMany = (events: ReadonlyArray<AnalyticsEvent>) =>
        events.length === 0
          ? Effect.void
          : Effect.try(() => events.map((event) => encodeEvent(event))).pipe(
              Effect.flatMap((payloads) => queue.appendMany(ANALYTICS_STREAM, payloads)),
              Effect.asVoid,
              Effect.catchCause((cause) =>
                Metric.update(droppedTotal, events.length).pipe(
                  Effect.andThen(Effect.logWarning("analytics events dropped", cause)),
                  Effect.annotateLogs({ count: events.length }),
                ),
              ),
            )
      return AnalyticsEvents.of({ emit: (event) => emitMany([event]), emitMany })
    }),
  )
}
