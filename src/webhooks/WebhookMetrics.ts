/**
 * Prometheus metrics of webhook ingestion and delivery. Labels carry only
 * configured provider keys and fixed outcome and reason names, never an
 * endpoint id, delivery id or anything from a request that is not verified.
 * Labelled series are created once and cached, so a hot-path update
 * allocates nothing.
 */
import { type Context, Metric } from "effect"

const latencyBoundaries = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]

/** Label value for requests naming a provider that is not configured. */
export const unknownProviderLabel = "unknown"

export type IngestOutcome =
  | "accepted"
  | "duplicate"
  | "handshake"
  | "rejected"
  | "too_large"
  | "malformed"
  | "unavailable"
  | "unknown_provider"

export type DeliveryOutcome = "delivered" | "retried" | "dead_lettered" | "skipped"

const cacheBy = <M>(make: (labels: ReadonlyArray<string>) => M) => {
  const cache = new Map<string, M>()
  return (...labels: ReadonlyArray<string>): M => {
    const key = labels.join("\u0000")
    let metric = cache.get(key)
    if (metric === undefined) {
      metric = make(labels)
      cache.set(key, metric)
    }
    return metric
  }
}

export const ackDuration = cacheBy(([provider]) =>
  Metric.histogram("webhook_ack_duration_seconds", {
    description: "Time from receiving a webhook to acknowledging it",
    boundaries: latencyBoundaries,
    attributes: { provider: provider! },
  }),
)

export const verificationFailures = cacheBy(([provider, reason]) =>
  Metric.counter("webhook_verification_failures_total", {
    description: "Webhook deliveries rejected by verification, by reason",
    incremental: true,
    attributes: { provider: provider!, reason: reason! },
  }),
)

export const eventsTotal = cacheBy(([provider, outcome]) =>
  Metric.counter("webhook_events_total", {
    description: "Webhook deliveries received, by outcome of the acknowledgement",
    incremental: true,
    attributes: { provider: provider!, outcome: outcome! },
  }),
)

export const deliveryDuration = cacheBy(([provider]) =>
  Metric.histogram("webhook_delivery_duration_seconds", {
    description: "Time of one delivery attempt to the destination",
    boundaries: [...latencyBoundaries, 10, 30],
    attributes: { provider: provider! },
  }),
)

export const deliveriesTotal = cacheBy(([provider, outcome]) =>
  Metric.counter("webhook_deliveries_total", {
    description: "Webhook events processed by the workers, by delivery outcome",
    incremental: true,
    attributes: { provider: provider!, outcome: outcome! },
  }),
)

export const queueDepth = Metric.gauge("webhook_queue_depth", {
  description: "Events in the webhook stream: waiting or being processed",
})

export const queuePending = Metric.gauge("webhook_queue_pending", {
  description: "Events handed to a worker and not yet acknowledged",
})

export const deadLetterDepth = Metric.gauge("webhook_dead_letter_depth", {
  description: "Events in the dead-letter stream",
})

/** Updates a metric synchronously with a context captured when a service was built. */
export const updateWith =
  (context: Context.Context<never>) =>
  <Input>(metric: Metric.Metric<Input, unknown>, value: Input): void =>
    metric.updateUnsafe(value, context)
