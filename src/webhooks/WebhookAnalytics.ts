/**
 * Analytics events of webhook ingestion and delivery, in the shape of
 * `WebhookEvent` from src/analytics/Events.ts. Callers record events in
 * memory; a background fiber hands them to the sink in batches, so recording
 * adds no I/O to an acknowledgement. The buffer is bounded: past it, events
 * are dropped and counted in a log line rather than slowing the route.
 */
import { createHash, randomUUID } from "node:crypto"
import { Context, type Duration, Effect, Layer, Schedule } from "effect"
import { AnalyticsEvents } from "../analytics/AnalyticsEvents.ts"
import type { AnalyticsEvent, WebhookEvent } from "../analytics/Events.ts"

/** A webhook analytics event before it is stamped with its id. */
export type WebhookAnalyticsRecord = Omit<WebhookEvent, "event_id" | "kind">

export interface WebhookAnalyticsShape {
  /** Records an event with a fresh id. */
  readonly record: (event: WebhookAnalyticsRecord) => void
  /**
   * Records an event whose id is derived from `stableKey`, so a step that
   * runs again after a crash emits the same id and counts can ignore the repeat.
   */
  readonly recordStable: (stableKey: string, event: WebhookAnalyticsRecord) => void
  /** Hands the buffered events to the sink now. */
  readonly flush: Effect.Effect<void>
}

export type AnalyticsSink = (events: ReadonlyArray<AnalyticsEvent>) => Effect.Effect<void, unknown>

/** Formats the first 16 bytes of a SHA-256 digest as a version 4 style UUID. */
const uuidFrom = (key: string): string => {
  const bytes = createHash("sha256").update(key).digest()
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.subarray(0, 16).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export interface WebhookAnalyticsOptions {
  readonly flushInterval?: Duration.Input | undefined
  /** Events held at most between flushes. Default 50,000. */
  readonly maxBuffered?: number | undefined
}

const make = (sink: AnalyticsSink, options: WebhookAnalyticsOptions) =>
  Effect.gen(function* () {
    const maxBuffered = options.maxBuffered ?? 50_000
    let buffer: Array<AnalyticsEvent> = []
    let dropped = 0

    const push = (event: AnalyticsEvent) => {
      if (buffer.length < maxBuffered) buffer.push(event)
      else dropped += 1
    }

    const flush = Effect.suspend(() => {
      const events = buffer
      const lost = dropped
      buffer = []
      dropped = 0
      const report =
        lost === 0
          ? Effect.void
          : Effect.logWarning("webhook analytics buffer was full; events dropped").pipe(
              Effect.annotateLogs({ dropped: lost }),
            )
      if (events.length === 0) return report
      return Effect.andThen(
        report,
        sink(events).pipe(
          Effect.catchCause((cause) =>
            Effect.logWarning("webhook analytics events dropped", cause).pipe(
              Effect.annotateLogs({ count: events.length }),
            ),
          ),
        ),
      )
    })

    yield* Effect.forkScoped(
      Effect.repeat(flush, Schedule.spaced(options.flushInterval ?? "200 millis")),
    )
    yield* Effect.addFinalizer(() => flush)

    return WebhookAnalytics.of({
      record: (event) => push({ kind: "webhook", event_id: randomUUID(), ...event }),
      recordStable: (stableKey, event) =>
        push({ kind: "webhook", event_id: uuidFrom(stableKey), ...event }),
      flush,
    })
  })

export class WebhookAnalytics extends Context.Service<WebhookAnalytics, WebhookAnalyticsShape>()(
  "app/webhooks/WebhookAnalytics",
) {
  /** Sends the batches to the analytics stream, which the ClickHouse batch writer reads. */
  static readonly layer = (options: WebhookAnalyticsOptions = {}) =>
    Layer.effect(
      WebhookAnalytics,
      Effect.gen(function* () {
        const events = yield* AnalyticsEvents
        return yield* make(events.emitMany, options)
      }),
    ).pipe(Layer.provide(AnalyticsEvents.layer))

  /** Sends the batches to `sink`. */
  static readonly layerWith = (sink: AnalyticsSink, options: WebhookAnalyticsOptions = {}) =>
    Layer.effect(WebhookAnalytics, make(sink, options))

  /** Writes each event to the debug log, for runs without an analytics sink. */
  static readonly layerLog = WebhookAnalytics.layerWith((events) =>
    Effect.forEach(
      events,
      (event) => Effect.logDebug("webhook analytics event").pipe(Effect.annotateLogs({ ...event })),
      { discard: true },
    ),
  )
}
