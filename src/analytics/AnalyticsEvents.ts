/**
 * The producer side of analytics. Events are recorded in memory and
 * appended to the durable analytics stream every 200 ms, up to
 * `MAX_EVENTS_PER_ENTRY` of them in one entry. The batch writer then inserts
 * them into ClickHouse.
 *
 * Recording never fails or delays the caller's flow. When the stream store
 * is down, the batch is dropped, logged and counted: a token refresh or a
 * webhook delivery must not fail for want of an analytics record.
 */
import { Context, Effect, Layer, Metric } from "effect"
import { StreamQueue } from "../storage/StreamQueue.ts"
import { type EventBufferOptions, makeEventBuffer } from "./EventBuffer.ts"
import { type AnalyticsEvent, encodeEventBatch, MAX_EVENTS_PER_ENTRY } from "./Events.ts"

/** The stream that carries analytics events from every producer to the batch writer. */
export const ANALYTICS_STREAM = "analytics:events"

const droppedTotal = Metric.counter("analytics_events_dropped_total", {
  description: "Analytics events not recorded because the stream store failed",
  incremental: true,
})

export interface AnalyticsEventsShape {
  /** Records an event; it reaches the stream with the next flush. */
  readonly record: (event: AnalyticsEvent) => void
  /** `record` as an effect. */
  readonly emit: (event: AnalyticsEvent) => Effect.Effect<void>
  /** Appends the recorded events to the stream now. */
  readonly flush: Effect.Effect<void>
}

export class AnalyticsEvents extends Context.Service<AnalyticsEvents, AnalyticsEventsShape>()(
  "app/analytics/AnalyticsEvents",
) {
  static readonly layerWith = (options: EventBufferOptions = {}) =>
    Layer.effect(
      AnalyticsEvents,
      Effect.gen(function* () {
        const queue = yield* StreamQueue
        const append = (events: ReadonlyArray<AnalyticsEvent>) =>
          Effect.try(() => {
            const payloads: Array<string> = []
            for (let start = 0; start < events.length; start += MAX_EVENTS_PER_ENTRY) {
              payloads.push(encodeEventBatch(events.slice(start, start + MAX_EVENTS_PER_ENTRY)))
            }
            return payloads
          }).pipe(
            Effect.flatMap((payloads) => queue.appendMany(ANALYTICS_STREAM, payloads)),
            Effect.asVoid,
            Effect.tapCause(() => Metric.update(droppedTotal, events.length)),
          )
        const buffer = yield* makeEventBuffer(append, options)
        return AnalyticsEvents.of({
          record: buffer.record,
          emit: (event) => Effect.sync(() => buffer.record(event)),
          flush: buffer.flush,
        })
      }),
    )

  static readonly layer = AnalyticsEvents.layerWith()
}
