/**
 * Delivery of one processed event to the destination: the JSON body the
 * destination receives, the attempts with backoff between them, and the
 * analytics record of each outcome.
 */
import { Duration, Effect, type Metric } from "effect"
import type { AttemptResult, DestinationRequest } from "./DestinationClient.ts"
import type { RoutedIntegration } from "./IntegrationRouting.ts"
import { type RetryPolicy, retryDelayMillis } from "./RetrySchedule.ts"
import type { WebhookAnalyticsRecord, WebhookAnalyticsShape } from "./WebhookAnalytics.ts"
import type { WebhookCountersShape } from "./WebhookCounters.ts"
import type { QueuedWebhook } from "./WebhookEvent.ts"
import * as Metrics from "./WebhookMetrics.ts"

/**
 * Builds the body sent to the destination, in the Standard Webhooks payload
 * shape (`type`, `timestamp`, `data`). `body` is the provider's raw body,
 * as text or base64 by `body_encoding`, so the destination gets the exact
 * bytes.
 */
export const destinationPayload = (
  event: QueuedWebhook,
  eventId: string,
  integrations: ReadonlyArray<RoutedIntegration>,
): string =>
  JSON.stringify({
    type: "webhook.received",
    timestamp: new Date().toISOString(),
    data: {
      event_id: eventId,
      provider: event.provider,
      endpoint_id: event.endpointId ?? null,
      integration_id: integrations[0]?.id ?? null,
      organization_id: integrations[0]?.organizationId ?? null,
      integration_ids: integrations.map((integration) => integration.id),
      delivery_id: event.deliveryId ?? null,
      routing_key: event.routingKey ?? null,
      event_type: event.eventType ?? null,
      received_at: new Date(event.receivedAt).toISOString(),
      headers: event.headers,
      body: event.body,
      body_encoding: event.bodyEncoding,
    },
  })

export type OutcomeFields = Pick<WebhookAnalyticsRecord, "outcome" | "attempt"> &
  Partial<Pick<WebhookAnalyticsRecord, "reason" | "processing_ms">>

export type OutcomeRecorder = (
  eventId: string,
  event: QueuedWebhook | undefined,
  provider: string,
  integrations: ReadonlyArray<RoutedIntegration>,
  fields: OutcomeFields,
) => void

/**
 * Records a delivery outcome under an id derived from the event id and the
 * step, so a step repeated after a crash is recorded with the same id.
 */
export const makeOutcomeRecorder =
  (analytics: WebhookAnalyticsShape): OutcomeRecorder =>
  (eventId, event, provider, integrations, fields) => {
    // The analytics schema requires a provider; an undecodable entry has none.
    if (provider === "") return
    analytics.recordStable(`${eventId}:${fields.outcome}:${fields.attempt}`, {
      time: Date.now(),
      provider,
      organization_id: integrations[0]?.organizationId ?? "",
      integration_id: integrations[0]?.id ?? "",
      endpoint_id: event?.endpointId ?? "",
      ...(event?.deliveryId === undefined ? {} : { delivery_id: event.deliveryId }),
      ...fields,
    })
  }

export type WithSlot = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * Builds the attempt loop: up to `maxAttempts` attempts, each holding a
 * concurrency slot only while it runs, so a wait between attempts leaves
 * the slot to other events. Returns the last result and the attempt count.
 */
export const makeRetryingDelivery = (options: {
  readonly deliver: (request: DestinationRequest) => Effect.Effect<AttemptResult>
  readonly policy: RetryPolicy
  readonly maxAttempts: number
  readonly counters: WebhookCountersShape
  readonly update: <Input>(metric: Metric.Metric<Input, unknown>, value: Input) => void
  readonly recordOutcome: OutcomeRecorder
}) => {
  const { counters, update, recordOutcome } = options

  return (
    request: DestinationRequest,
    event: QueuedWebhook,
    integrations: ReadonlyArray<RoutedIntegration>,
    withSlot: WithSlot,
  ) =>
    Effect.gen(function* () {
      const provider = event.provider
      for (let attempt = 1; ; attempt++) {
        const startedAt = performance.now()
        const result = yield* withSlot(options.deliver(request))
        const millis = performance.now() - startedAt
        update(Metrics.deliveryDuration(provider), millis / 1000)
        if (result._tag === "Delivered") {
          recordOutcome(request.eventId, event, provider, integrations, {
            outcome: "delivered",
            attempt,
            processing_ms: millis,
          })
          return { result, attempts: attempt }
        }

        recordOutcome(request.eventId, event, provider, integrations, {
          outcome: "failed",
          attempt,
          processing_ms: millis,
          reason: result.reason,
        })
        counters.add(provider, event.endpointId, "failed")
        if (result._tag === "Rejected" || attempt >= options.maxAttempts) {
          return { result, attempts: attempt }
        }

        update(Metrics.deliveriesTotal(provider, "retried"), 1)
        const wait = retryDelayMillis(options.policy, attempt, result.retryAfterMillis)
        yield* Effect.sleep(Duration.millis(wait))
      }
    })
}
