/**
 * Processes one stream entry: routes the event to its integrations, applies
 * the status change a provider signals, delivers the event to the
 * destination with retries, and dead-letters it when delivery fails for good.
 *
 * Processed once in effect: a marker per event id in the key-value store
 * records that the status change ran (`handled`) and that delivery succeeded
 * (`delivered`). An entry delivered again after a crash skips the steps its
 * marker records as done, and the destination gets the same `webhook-id` on every attempt,
 * so it can drop a repeat that happened between delivery and marker.
 */
import { Cause, type Context, type Duration, Effect, Option, Schedule } from "effect"
import type { ProviderRegistryShape } from "../providers/ProviderRegistry.ts"
import type { KeyValue } from "../storage/KeyValue.ts"
import type { StoreError } from "../storage/StoreError.ts"
import type { StreamQueue } from "../storage/StreamQueue.ts"
import { type DeadLetter, encodeDeadLetter } from "./DeadLetters.ts"
import {
  destinationPayload,
  makeOutcomeRecorder,
  makeRetryingDelivery,
  type WithSlot,
} from "./DeliveryAttempts.ts"
import type { AttemptResult, DestinationRequest } from "./DestinationClient.ts"
import type { IntegrationRoutingShape, RoutedIntegration } from "./IntegrationRouting.ts"
import { type LifecycleRule, matchLifecycleRule } from "./LifecycleEvents.ts"
import type { RetryPolicy } from "./RetrySchedule.ts"
import type { WebhookAnalyticsShape } from "./WebhookAnalytics.ts"
import type { WebhookCountersShape } from "./WebhookCounters.ts"
import type { WebhookEndpointsShape } from "./WebhookEndpoints.ts"
import { deadLetterStream, eventIdOf, type QueuedWebhook } from "./WebhookEvent.ts"
import * as Metrics from "./WebhookMetrics.ts"

/** A stream entry with its payload decoded; `event` is undefined for an unreadable payload. */
export interface WorkItem {
  readonly entryId: string
  readonly deliveries: number
  readonly payload: string
  readonly event: QueuedWebhook | undefined
}

export interface EventProcessorOptions {
  readonly queue: StreamQueue["Service"]
  /** Acknowledges and deletes one entry of the events stream (batched by the caller). */
  readonly acknowledge: (entryId: string) => Effect.Effect<void, StoreError>
  readonly keyValue: KeyValue["Service"]
  readonly routing: IntegrationRoutingShape
  readonly endpoints: WebhookEndpointsShape
  readonly registry: ProviderRegistryShape
  readonly counters: WebhookCountersShape
  readonly analytics: WebhookAnalyticsShape
  readonly deliver: (request: DestinationRequest) => Effect.Effect<AttemptResult>
  readonly policy: RetryPolicy
  readonly maxAttempts: number
  readonly defaultDestinationUrl: string | undefined
  /** How long the processed-once markers live; at least the dedup window. */
  readonly markerTtl: Duration.Input
  /** An entry handed out this many times without completing is dead-lettered unprocessed. */
  readonly maxDeliveries: number
  readonly metricsContext: Context.Context<never>
}

const markerKey = (eventId: string) => `webhooks:done:${eventId}`

// Store and database calls are retried for about half a minute; after that
// the entry stays pending and another pass (or worker) claims it later.
const storeRetry = Schedule.max([
  Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")]),
  Schedule.recurs(10),
])

export const makeEventProcessor = (options: EventProcessorOptions) => {
  const { queue, keyValue, routing, counters } = options
  const update = Metrics.updateWith(options.metricsContext)
  // The retry schedule is only set up after a first failure, so a store call
  // that succeeds at once, the common case, pays nothing for it.
  const retried = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.catch(effect, () => Effect.retry(effect, storeRetry))

  const recordOutcome = makeOutcomeRecorder(options.analytics)

  const ack = (item: WorkItem) => retried(options.acknowledge(item.entryId))

  const deadLetter = (
    item: WorkItem,
    letter: DeadLetter,
    integrations: ReadonlyArray<RoutedIntegration> = [],
  ) =>
    Effect.gen(function* () {
      // Append before the ack: a crash in between leaves the entry pending,
      // and its second pass appends the letter again rather than losing it.
      yield* retried(queue.append(deadLetterStream, encodeDeadLetter(letter)))
      yield* ack(item)
      counters.add(letter.provider, letter.event?.endpointId, "deadLettered")
      update(Metrics.deliveriesTotal(letter.provider, "dead_lettered"), 1)
      recordOutcome(letter.eventId, letter.event, letter.provider, integrations, {
        outcome: "dead_lettered",
        attempt: letter.attempts,
        reason: letter.lastReason,
      })
      yield* Effect.logWarning("webhook event dead-lettered").pipe(
        Effect.annotateLogs({
          provider: letter.provider,
          event_id: letter.eventId,
          attempts: letter.attempts,
          error: letter.lastError,
        }),
      )
    })

  /**
   * Finds the provider in this instance's snapshot, reloading it once when
   * the provider is missing: the event may come from a provider created on
   * another instance since the last poll.
   */
  const findProvider = (key: string) =>
    Effect.gen(function* () {
      const known = Option.getOrUndefined(options.registry.get(key))
      if (known !== undefined) return known
      yield* retried(options.registry.reload)
      return Option.getOrUndefined(options.registry.get(key))
    })

  const findEndpoint = (id: string) =>
    Effect.gen(function* () {
      const known = options.endpoints.get(id)
      if (known !== undefined) return known
      yield* retried(options.endpoints.reload)
      return options.endpoints.get(id)
    })

  const routeEvent = (event: QueuedWebhook) =>
    Effect.gen(function* () {
      if (event.endpointId !== undefined) {
        const integrationId = (yield* findEndpoint(event.endpointId))?.integrationId
        if (integrationId === undefined) return []
        return yield* retried(routing.byId(integrationId))
      }
      if (event.routingKey === undefined) return []
      return yield* retried(routing.byExternalId(event.provider, event.routingKey))
    })

  const deliverWithRetries = makeRetryingDelivery({
    deliver: options.deliver,
    policy: options.policy,
    maxAttempts: options.maxAttempts,
    counters,
    update,
    recordOutcome,
  })

  const applyRule = (
    event: QueuedWebhook,
    integrations: ReadonlyArray<RoutedIntegration>,
    rule: LifecycleRule,
  ) =>
    Effect.gen(function* () {
      const ids = integrations.map((integration) => integration.id)
      const changed = yield* retried(routing.applyRule(ids, rule))
      if (changed === 0) return
      yield* Effect.logInfo("integration status changed by a provider event").pipe(
        Effect.annotateLogs({
          provider: event.provider,
          status: rule.status,
          reason: rule.reason,
          integrations: ids.join(","),
        }),
      )
    })

  const processEvent = (item: WorkItem, event: QueuedWebhook, withSlot: WithSlot) =>
    Effect.gen(function* () {
      const eventId = eventIdOf(event, item.entryId)
      const key = markerKey(eventId)
      // Admission appends each delivery id once, so an entry handed out for
      // the first time straight from the ingest route has no marker yet. A
      // redelivered entry (after a crash) or a replayed one (it carries its
      // id) may have run before.
      const mayHaveRun = item.deliveries > 1 || event.eventId !== undefined
      const marker = mayHaveRun
        ? Option.getOrUndefined(yield* retried(keyValue.get(key)))
        : undefined
      if (marker === "delivered") return yield* ack(item)

      const provider = yield* findProvider(event.provider)
      if (provider === undefined) {
        // Deleted since the event was accepted. Its destination is unknown,
        // so the event waits in the dead letters rather than being dropped.
        return yield* deadLetter(item, {
          eventId,
          provider: event.provider,
          event,
          attempts: 0,
          lastError: `provider ${event.provider} is not configured`,
          lastReason: "unknown_provider",
          lastStatus: undefined,
          deadLetteredAt: Date.now(),
        })
      }

      const url = provider.config.destinationUrl ?? options.defaultDestinationUrl
      const rule =
        marker === "handled"
          ? undefined
          : matchLifecycleRule(provider.source.template, event.eventType, () =>
              event.bodyEncoding === "utf8" ? event.body : undefined,
            )
      const integrations = rule === undefined && url === undefined ? [] : yield* routeEvent(event)

      if (rule !== undefined && integrations.length > 0) {
        // NOTE: a crash between the status change and this marker runs the
        // change again on redelivery. The guard in `applyRule` makes that a
        // no-op, unless the integration was reconnected in between.
        yield* applyRule(event, integrations, rule)
        yield* retried(keyValue.set(key, "handled", options.markerTtl))
      }

      if (url === undefined) {
        update(Metrics.deliveriesTotal(event.provider, "skipped"), 1)
        return yield* ack(item)
      }

      const request = { url, eventId, body: destinationPayload(event, eventId, integrations) }
      const { result, attempts } = yield* deliverWithRetries(request, event, integrations, withSlot)
      if (result._tag === "Delivered") {
        yield* retried(keyValue.set(key, "delivered", options.markerTtl))
        yield* ack(item)
        counters.add(event.provider, event.endpointId, "delivered")
        update(Metrics.deliveriesTotal(event.provider, "delivered"), 1)
        return
      }
      yield* deadLetter(
        item,
        {
          eventId,
          provider: event.provider,
          event,
          attempts,
          lastError: result.error,
          lastReason: result.reason,
          lastStatus: result.status,
          deadLetteredAt: Date.now(),
        },
        integrations,
      )
    })

  /** Processes one item; a failure leaves its entry pending for a later claim. */
  return (item: WorkItem, withSlot: WithSlot): Effect.Effect<void> => {
    const event = item.event
    const work: Effect.Effect<unknown, unknown> =
      event === undefined
        ? deadLetter(item, {
            eventId: `evt_${item.entryId}`,
            provider: "",
            event: undefined,
            payload: item.payload,
            attempts: 0,
            lastError: "the stream entry could not be decoded",
            lastReason: "undecodable",
            lastStatus: undefined,
            deadLetteredAt: Date.now(),
          })
        : item.deliveries > options.maxDeliveries
          ? deadLetter(item, {
              eventId: eventIdOf(event, item.entryId),
              provider: event.provider,
              event,
              attempts: 0,
              lastError: `handed to workers ${item.deliveries} times without completing`,
              lastReason: "too_many_deliveries",
              lastStatus: undefined,
              deadLetteredAt: Date.now(),
            })
          : processEvent(item, event, withSlot)

    // Defects are caught too: one bad event must not stop its partition.
    return work.pipe(
      Effect.asVoid,
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.logError("webhook event processing failed; it stays pending", cause).pipe(
              Effect.annotateLogs({ entry_id: item.entryId }),
            ),
      ),
    )
  }
}
