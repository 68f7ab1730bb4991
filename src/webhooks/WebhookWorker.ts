/**
 * The webhook workers of one process. One consumer in the `webhook-workers`
 * group of `webhooks:events` hands entries to a partitioned runner, which
 * keeps one ordered queue per integration or routing key and runs at most
 * DELIVERY_CONCURRENCY of them at once. The worker also claims entries that
 * a crashed consumer left pending, and keeps the queue gauges current.
 */

import { hostname } from "node:os"
import { Duration, Effect, Fiber, Layer, Option, Schedule } from "effect"
import { HttpClient } from "effect/http"
import { AppConfig } from "../config/AppConfig.ts"
import { OutboundHttpLive } from "../http/OutboundHttp.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { KeyValue } from "../storage/KeyValue.ts"
import type { DeliveredEntry } from "../storage/StreamQueue.ts"
import { StreamQueue } from "../storage/StreamQueue.ts"
import { makeAckBatcher } from "./AckBatcher.ts"
import { makeDestinationClient } from "./DestinationClient.ts"
import { makeDestinationSigner } from "./DestinationSigner.ts"
import { makeEventProcessor, type WorkItem } from "./EventProcessor.ts"
import { IntegrationRouting } from "./IntegrationRouting.ts"
import { makePartitionedRunner } from "./PartitionedRunner.ts"
import { DeliveryRetryPolicy, type RetryPolicy, worstCaseMillis } from "./RetrySchedule.ts"
import { WebhookAnalytics } from "./WebhookAnalytics.ts"
import { WebhookCounters } from "./WebhookCounters.ts"
import { WebhookEndpoints } from "./WebhookEndpoints.ts"
import {
  deadLetterStream,
  decodeEvent,
  eventIdOf,
  eventsStream,
  type QueuedWebhook,
  workerGroup,
} from "./WebhookEvent.ts"
import * as Metrics from "./WebhookMetrics.ts"

export interface WebhookWorkerOptions {
  readonly retryPolicy?: RetryPolicy | undefined
  /** How often the queue gauges are refreshed. Default 5 seconds. */
  readonly gaugeInterval?: Duration.Input | undefined
}

/** Extra idle time on top of the longest delivery, before a pending entry counts as abandoned. */
const claimMargin = Duration.seconds(5)

/**
 * Pause after a read that returned a partial batch, so that the next read
 * finds more entries. Each read has a fixed cost, which at moderate rates
 * is spread over one or two entries instead of dozens. The pause adds at
 * most this much to the time from acknowledgement to processing.
 */
const readLinger = Duration.millis(5)

/** Entries with neither a routing key nor an endpoint have no order to keep. */
const partitionKey = (event: QueuedWebhook | undefined, entryId: string): string => {
  if (event === undefined) return entryId
  if (event.endpointId !== undefined) return `${event.provider}\u0000e\u0000${event.endpointId}`
  if (event.routingKey !== undefined) return `${event.provider}\u0000r\u0000${event.routingKey}`
  return eventIdOf(event, entryId)
}

const make = (options: WebhookWorkerOptions) =>
  Effect.gen(function* () {
    const settings = yield* AppConfig
    const queue = yield* StreamQueue
    const client = yield* HttpClient.HttpClient
    const policy = options.retryPolicy ?? (yield* DeliveryRetryPolicy)
    const consumer = `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`
    const metricsContext = yield* Effect.context<never>()
    const update = Metrics.updateWith(metricsContext)

    const timeoutMillis = Duration.toMillis(settings.providerTimeout)
    const claimIdle = Duration.sum(
      Duration.millis(worstCaseMillis(policy, settings.deliveryMaxAttempts, timeoutMillis)),
      claimMargin,
    )

    const acknowledge = yield* makeAckBatcher({
      flush: (ids) => queue.ack(eventsStream, workerGroup, ids),
      maxBatch: 64,
      maxDelay: "2 millis",
    })
    const processor = makeEventProcessor({
      queue,
      acknowledge,
      keyValue: yield* KeyValue,
      routing: yield* IntegrationRouting,
      endpoints: yield* WebhookEndpoints,
      registry: yield* ProviderRegistry,
      counters: yield* WebhookCounters,
      analytics: yield* WebhookAnalytics,
      deliver: makeDestinationClient({
        client,
        signer: makeDestinationSigner(Option.getOrUndefined(settings.destinationSigningSecret)),
        timeout: settings.providerTimeout,
        nowMillis: Date.now,
      }),
      policy,
      maxAttempts: settings.deliveryMaxAttempts,
      defaultDestinationUrl: Option.getOrUndefined(settings.defaultDestinationUrl)?.href,
      markerTtl: Duration.max(settings.webhookDedupWindow, Duration.hours(1)),
      maxDeliveries: 10,
      metricsContext,
    })

    // Ids of the entries this process has queued or is running, so a claim
    // pass does not queue one of them twice.
    const inProcess = new Set<string>()
    const runner = yield* makePartitionedRunner<WorkItem>({
      concurrency: settings.deliveryConcurrency,
      maxBuffered: settings.deliveryConcurrency * 2,
      run: (item, withSlot) =>
        processor(item, withSlot).pipe(
          Effect.ensuring(Effect.sync(() => inProcess.delete(item.entryId))),
        ),
    })

    const submit = (entries: ReadonlyArray<DeliveredEntry>) =>
      Effect.forEach(
        entries,
        (entry) => {
          if (inProcess.has(entry.id)) return Effect.void
          inProcess.add(entry.id)
          const event = decodeEvent(entry.payload)
          const item: WorkItem = {
            entryId: entry.id,
            deliveries: entry.deliveries,
            payload: entry.payload,
            event,
          }
          return runner.submit(partitionKey(event, entry.id), item)
        },
        { discard: true },
      )

    const batch = Math.max(1, Math.min(100, settings.deliveryConcurrency))
    let readFailing = false
    const readOnce = queue
      .read(eventsStream, workerGroup, consumer, { count: batch, block: "2 seconds" })
      .pipe(
        Effect.tap(submit),
        Effect.flatMap((entries) =>
          entries.length > 0 && entries.length < batch ? Effect.sleep(readLinger) : Effect.void,
        ),
        Effect.tap(() => Effect.sync(() => (readFailing = false))),
        Effect.catch((error) => {
          const log = readFailing
            ? Effect.logDebug("webhook worker still cannot read the event stream", error)
            : Effect.logError("webhook worker cannot read the event stream; retrying", error)
          readFailing = true
          // A group lost with its stream (a Redis restart without persistence)
          // is created again, so the worker resumes once Redis is back.
          return log.pipe(
            Effect.andThen(Effect.ignore(queue.ensureGroup(eventsStream, workerGroup))),
            Effect.andThen(Effect.sleep("1 second")),
          )
        }),
      )

    const claimOnce = queue
      .claimStale(eventsStream, workerGroup, consumer, { minIdle: claimIdle, count: batch })
      .pipe(
        Effect.flatMap((entries) => {
          const fresh = entries.filter((entry) => !inProcess.has(entry.id))
          if (fresh.length === 0) return Effect.void
          return Effect.logInfo("claimed webhook events left pending by another worker").pipe(
            Effect.annotateLogs({ count: fresh.length }),
            Effect.andThen(submit(fresh)),
          )
        }),
        Effect.catch(() => Effect.void),
      )

    const gauges = Effect.all([
      queue.length(eventsStream),
      queue.pending(eventsStream, workerGroup),
      queue.length(deadLetterStream),
    ]).pipe(
      Effect.tap(([depth, pending, dead]) =>
        Effect.sync(() => {
          update(Metrics.queueDepth, depth)
          update(Metrics.queuePending, pending)
          update(Metrics.deadLetterDepth, dead)
        }),
      ),
      Effect.ignore,
    )

    yield* Effect.retry(
      queue.ensureGroup(eventsStream, workerGroup),
      Schedule.spaced("1 second").pipe(Schedule.upTo({ duration: settings.storeConnectTimeout })),
    )
    const claimEvery = Duration.clamp(Duration.divideUnsafe(claimIdle, 4), {
      minimum: Duration.seconds(1),
      maximum: Duration.seconds(30),
    })
    const readFiber = yield* Effect.forkScoped(Effect.forever(readOnce))
    const claimFiber = yield* Effect.forkScoped(
      Effect.repeat(claimOnce, Schedule.spaced(claimEvery)),
    )
    yield* Effect.forkScoped(
      Effect.repeat(gauges, Schedule.spaced(options.gaugeInterval ?? "5 seconds")),
    )
    yield* Effect.logInfo("webhook worker started").pipe(
      Effect.annotateLogs({ consumer, claim_idle: Duration.format(claimIdle) }),
    )

    // On shutdown the worker stops reading, then gives its entries time
    // to finish. Whatever still runs after that is interrupted and stays
    // pending until a worker claims it.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* Fiber.interrupt(readFiber)
        yield* Fiber.interrupt(claimFiber)
        yield* Effect.sleep("50 millis").pipe(
          Effect.repeat({ until: () => inProcess.size === 0 }),
          Effect.timeoutOption(settings.shutdownTimeout),
        )
      }),
    )
  })

/** The workers, for processes whose ROLE is `worker` or `all`. */
export const WebhookWorkerLive = (options: WebhookWorkerOptions = {}) =>
  Layer.effectDiscard(make(options)).pipe(Layer.provide(OutboundHttpLive))
