/**
 * Records the outcome of each ingest request in memory: the Prometheus
 * metrics, the per provider and endpoint counters and the analytics events.
 * Nothing here performs I/O; counters and analytics leave the process from
 * their background fibers.
 */
import { type Context, Effect } from "effect"
import type { StoreError } from "../storage/StoreError.ts"
import type { LogThrottle } from "./LogThrottle.ts"
import type { WebhookRejected } from "./verify/WebhookRejected.ts"
import type { WebhookAnalyticsShape } from "./WebhookAnalytics.ts"
import type { WebhookCountersShape } from "./WebhookCounters.ts"
import * as Metrics from "./WebhookMetrics.ts"

interface Sender {
  readonly provider: string
  readonly endpointId: string | undefined
}

export type RejectionOutcome = "rejected" | "too_large" | "malformed"

export interface IngestRecorder {
  /** A request whose provider resolved; counts it as received. */
  readonly received: (sender: Sender) => void
  readonly accepted: (sender: Sender, deliveryId: string | undefined, startedAt: number) => void
  readonly duplicate: (sender: Sender, deliveryId: string, startedAt: number) => void
  readonly handshake: (sender: Sender, startedAt: number) => void
  /**
   * Counts and logs (throttled) an event the queue did not take. The 503
   * response makes the provider retry.
   */
  readonly unavailable: (
    sender: Sender,
    error: StoreError,
    startedAt: number,
  ) => Effect.Effect<void>
  /** A path that names no configured provider or endpoint; only the metric counts it. */
  readonly unknown: (providerLabel: string, startedAt: number) => void
  /** Counts, records and logs (throttled) a rejection by the verifier or the body checks. */
  readonly rejected: (
    sender: Sender,
    outcome: RejectionOutcome,
    reason: string,
    rejection: WebhookRejected | undefined,
    startedAt: number,
  ) => Effect.Effect<void>
}

export const makeIngestRecorder = (options: {
  readonly context: Context.Context<never>
  readonly counters: WebhookCountersShape
  readonly analytics: WebhookAnalyticsShape
  readonly throttle: LogThrottle
  readonly now: () => number
}): IngestRecorder => {
  const update = Metrics.updateWith(options.context)
  const { counters, analytics, throttle, now } = options

  /** Updates the two metrics every request gets; returns the elapsed milliseconds. */
  const finish = (provider: string, outcome: Metrics.IngestOutcome, startedAt: number) => {
    const millis = performance.now() - startedAt
    update(Metrics.ackDuration(provider), millis / 1000)
    update(Metrics.eventsTotal(provider, outcome), 1)
    return millis
  }

  const event = (sender: Sender) => ({
    time: now(),
    provider: sender.provider,
    organization_id: "",
    integration_id: "",
    endpoint_id: sender.endpointId ?? "",
    attempt: 0,
  })

  return {
    received: (sender) => {
      counters.add(sender.provider, sender.endpointId, "received")
      analytics.record({ ...event(sender), outcome: "received" })
    },

    accepted: (sender, deliveryId, startedAt) => {
      const millis = finish(sender.provider, "accepted", startedAt)
      counters.add(sender.provider, sender.endpointId, "accepted")
      analytics.record({
        ...event(sender),
        outcome: "accepted",
        ack_ms: millis,
        ...(deliveryId === undefined ? {} : { delivery_id: deliveryId }),
      })
    },

    duplicate: (sender, deliveryId, startedAt) => {
      const millis = finish(sender.provider, "duplicate", startedAt)
      counters.add(sender.provider, sender.endpointId, "duplicates")
      analytics.record({
        ...event(sender),
        outcome: "duplicate",
        ack_ms: millis,
        delivery_id: deliveryId,
      })
    },

    handshake: (sender, startedAt) => {
      finish(sender.provider, "handshake", startedAt)
    },

    unavailable: (sender, error, startedAt) => {
      finish(sender.provider, "unavailable", startedAt)
      const dropped = throttle.admit(`${sender.provider}\u0000store_unavailable`)
      if (dropped === undefined) return Effect.void
      return Effect.logError("webhook event not queued; responded 503", error).pipe(
        Effect.annotateLogs({
          provider: sender.provider,
          endpoint_id: sender.endpointId ?? "",
          suppressed: dropped,
        }),
      )
    },

    unknown: (providerLabel, startedAt) => {
      finish(providerLabel, "unknown_provider", startedAt)
    },

    rejected: (sender, outcome, reason, rejection, startedAt) => {
      finish(sender.provider, outcome, startedAt)
      counters.reject(sender.provider, sender.endpointId, reason)
      if (rejection !== undefined) update(Metrics.verificationFailures(sender.provider, reason), 1)
      analytics.record({ ...event(sender), outcome: "rejected", reason })

      const dropped = throttle.admit(`${sender.provider}\u0000${reason}`)
      if (dropped === undefined) return Effect.void
      // Header names and the skew only: a rejection never carries a secret.
      return Effect.logWarning("webhook rejected").pipe(
        Effect.annotateLogs({
          provider: sender.provider,
          endpoint_id: sender.endpointId ?? "",
          reason,
          header: rejection?.header ?? "",
          skew_seconds: rejection?.skewSeconds ?? "",
          suppressed: dropped,
        }),
      )
    },
  }
}
