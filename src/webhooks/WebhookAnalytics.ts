/**
 * Analytics events of webhook ingestion and delivery, in the shape of
 * `WebhookEvent` from src/analytics/Events.ts. Recording stamps the event
 * and leaves it in memory (see src/analytics/EventBuffer.ts), so it adds no
 * I/O to an acknowledgement.
 */
import { createHash, randomUUID } from "node:crypto"
import { Context, Effect, Layer } from "effect"
import { AnalyticsEvents } from "../analytics/AnalyticsEvents.ts"
import {
  type AnalyticsSink,
  type EventBufferOptions,
  makeEventBuffer,
} from "../analytics/EventBuffer.ts"
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

export type { AnalyticsSink }

/** Formats the first 16 bytes of a SHA-256 digest as a version 4 style UUID. */
const uuidFrom = (key: string): string => {
  const bytes = createHash("sha256").update(key).digest()
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.subarray(0, 16).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Builds the service on `record`, which receives each event once it has its kind and id. */
const webhookRecorder = (
  record: (event: AnalyticsEvent) => void,
  flush: Effect.Effect<void>,
): WebhookAnalyticsShape => ({
  record: (event) => record({ kind: "webhook", event_id: randomUUID(), ...event }),
  recordStable: (stableKey, event) =>
    record({ kind: "webhook", event_id: uuidFrom(stableKey), ...event }),
  flush,
})

export class WebhookAnalytics extends Context.Service<WebhookAnalytics, WebhookAnalyticsShape>()(
  "app/webhooks/WebhookAnalytics",
) {
  /** Records into the shared analytics buffer, which the ClickHouse batch writer drains. */
  static readonly layer = Layer.effect(
    WebhookAnalytics,
    AnalyticsEvents.useSync((events) => webhookRecorder(events.record, events.flush)),
  ).pipe(Layer.provide(AnalyticsEvents.layer))

  /** Sends the batches to `sink`, from a buffer of its own. */
  static readonly layerWith = (sink: AnalyticsSink, options: EventBufferOptions = {}) =>
    Layer.effect(
      WebhookAnalytics,
      Effect.map(makeEventBuffer(sink, options), (buffer) =>
        webhookRecorder(buffer.record, buffer.flush),
      ),
    )

  /** Writes each event to the debug log, for runs without an analytics sink. */
  static readonly layerLog = WebhookAnalytics.layerWith((events) =>
    Effect.forEach(
      events,
      (event) => Effect.logDebug("webhook analytics event").pipe(Effect.annotateLogs({ ...event })),
      { discard: true },
    ),
  )
}
