/**
 * Webhook ingest: reads the raw body under the provider's limit, verifies
 * it, replies to handshakes, claims the delivery id, appends the event to
 * the durable stream and only then acknowledges. The HTTP front doors are in
 * src/webhooks/IngestRoute.ts.
 *
 * Statuses: 200 accepted or duplicate; 400 malformed or stale; 401 signature
 * or token mismatch; 404 unknown provider or endpoint; 413 body over the
 * limit; 503 the queue could not take the event, so the provider retries.
 */
import { Context, Effect, Layer } from "effect"
import { errorBody } from "../http/ApiErrors.ts"
import { STATUS_BY_CODE } from "../http/ErrorMapping.ts"
import { EventAdmission } from "./EventAdmission.ts"
import { IngestClock } from "./IngestClock.ts"
import { type IngestRecorder, makeIngestRecorder } from "./IngestRecorder.ts"
import { pickHeaders } from "./KeptHeaders.ts"
import { makeLogThrottle } from "./LogThrottle.ts"
import { BodyTooLarge, type BodyUnreadable, readLimitedBody } from "./RequestBody.ts"
import type { VerifiedDelivery } from "./verify/Verifier.ts"
import { WebhookRejected } from "./verify/WebhookRejected.ts"
import { WebhookAnalytics } from "./WebhookAnalytics.ts"
import { WebhookCounters } from "./WebhookCounters.ts"
import { encodeBody, encodeEvent } from "./WebhookEvent.ts"
import { unknownProviderLabel } from "./WebhookMetrics.ts"
import { type SourceMissing, type WebhookSource, WebhookSources } from "./WebhookSource.ts"

type Headers = Record<string, string>

/** A response spec rather than a `Response`: a web response's body can be sent only once. */
export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Headers
}

const jsonReply = (status: number, body: string, headers?: Headers): Reply => ({
  status,
  body,
  headers: { "content-type": "application/json", ...headers },
})

/** The API's error body, with the status that `STATUS_BY_CODE` gives the code. */
export const errorReply = (code: string, message: string, headers?: Headers): Reply =>
  jsonReply(STATUS_BY_CODE[code] ?? 500, JSON.stringify(errorBody(code, message)), headers)

const acceptedReply = jsonReply(200, '{"status":"accepted"}')
const duplicateReply = jsonReply(200, '{"status":"duplicate"}')
const unavailableReply = errorReply(
  "store_unavailable",
  "The event queue did not accept the event; retry later.",
  { "retry-after": "1" },
)
const missingReplies: Record<SourceMissing, Reply> = {
  unknown_provider: errorReply("provider_not_found", "No provider has this key."),
  provider_invalid: errorReply(
    "provider_invalid",
    "The provider is stored but cannot be used; retry later.",
    { "retry-after": "60" },
  ),
  unknown_endpoint: errorReply("unknown_endpoint", "The provider has no such endpoint."),
  webhooks_not_configured: errorReply(
    "webhooks_not_configured",
    "The provider has no usable webhook configuration.",
  ),
}
export const internalErrorReply = errorReply("internal_error", "The request failed unexpectedly.")

const handshakeReply = (handshake: NonNullable<VerifiedDelivery["handshake"]>): Reply => ({
  status: handshake.status,
  body: handshake.body,
  headers: { "content-type": handshake.contentType },
})

interface IngestContext {
  readonly admission: EventAdmission["Service"]
  readonly recorder: IngestRecorder
  readonly now: () => number
}

/**
 * Claims the delivery id, appends the event and acknowledges. The routes
 * run it uninterrupted: a client that disconnects mid-request must not cut
 * the embedded claim-then-append sequence in two.
 */
const enqueue = (
  ctx: IngestContext,
  source: WebhookSource,
  request: Request,
  body: Uint8Array,
  delivery: VerifiedDelivery,
  startedAt: number,
) => {
  const { provider, endpointId } = source
  const deliveryId = delivery.deliveryId
  const payload = encodeEvent({
    provider,
    endpointId,
    deliveryId,
    routingKey: delivery.routingKey,
    eventType: delivery.eventType,
    receivedAt: ctx.now(),
    headers: pickHeaders(request.headers, source.keptHeaders),
    ...encodeBody(body),
  })
  const key = deliveryId === undefined ? undefined : { provider, endpointId, deliveryId }

  return ctx.admission.admit(key, payload).pipe(
    Effect.map((admission) => {
      if (admission === "accepted") {
        ctx.recorder.accepted(source, deliveryId, startedAt)
        return acceptedReply
      }
      ctx.recorder.duplicate(source, deliveryId!, startedAt)
      return duplicateReply
    }),
    Effect.catchTag("StoreError", (error) =>
      Effect.as(ctx.recorder.unavailable(source, error, startedAt), unavailableReply),
    ),
  )
}

const rejectFailure = (
  ctx: IngestContext,
  source: WebhookSource,
  error: WebhookRejected | BodyTooLarge | BodyUnreadable,
  startedAt: number,
) => {
  if (error instanceof WebhookRejected) {
    return ctx.recorder
      .rejected(source, "rejected", error.reason, error, startedAt)
      .pipe(Effect.as(errorReply(error.code, error.message)))
  }
  if (error instanceof BodyTooLarge) {
    return ctx.recorder
      .rejected(source, "too_large", "payload_too_large", undefined, startedAt)
      .pipe(Effect.as(errorReply("payload_too_large", error.message)))
  }
  return ctx.recorder
    .rejected(source, "malformed", "malformed_body", undefined, startedAt)
    .pipe(Effect.as(errorReply("malformed_body", error.message)))
}

const ingestFrom = (
  ctx: IngestContext,
  source: WebhookSource,
  request: Request,
  startedAt: number,
): Effect.Effect<Reply> => {
  ctx.recorder.received(source)
  return readLimitedBody(request, source.maxBodyBytes).pipe(
    Effect.flatMap((body) =>
      source
        .verify({
          headers: (name) => request.headers.get(name),
          body,
          nowSeconds: Math.floor(ctx.now() / 1000),
        })
        .pipe(
          Effect.flatMap((delivery) => {
            if (delivery.handshake === undefined) {
              return enqueue(ctx, source, request, body, delivery, startedAt)
            }
            ctx.recorder.handshake(source, startedAt)
            return Effect.succeed(handshakeReply(delivery.handshake))
          }),
        ),
    ),
    Effect.catch((error) => rejectFailure(ctx, source, error, startedAt)),
  )
}

export interface WebhookIngestShape {
  /**
   * Ingests one request addressed to `provider` (and `endpointId`), as the
   * route parsed them from the path. The error channel is empty, so every
   * outcome, a rejection included, is a reply.
   */
  readonly ingest: (
    request: Request,
    provider: string,
    endpointId: string | undefined,
    startedAt: number,
  ) => Effect.Effect<Reply>
}

export class WebhookIngest extends Context.Service<WebhookIngest, WebhookIngestShape>()(
  "app/webhooks/WebhookIngest",
) {
  static readonly layer = Layer.effect(
    WebhookIngest,
    Effect.gen(function* () {
      const sources = yield* WebhookSources
      const now = yield* IngestClock
      const ctx: IngestContext = {
        admission: yield* EventAdmission,
        now,
        recorder: makeIngestRecorder({
          context: yield* Effect.context<never>(),
          counters: yield* WebhookCounters,
          analytics: yield* WebhookAnalytics,
          throttle: makeLogThrottle({ perInterval: 5, intervalMillis: 10_000 }),
          now,
        }),
      }
      return WebhookIngest.of({
        ingest: (request, provider, endpointId, startedAt) => {
          const source = sources.find(provider, endpointId)
          if (typeof source !== "string") return ingestFrom(ctx, source, request, startedAt)
          // Only configured keys become metric labels; a path is attacker-chosen.
          ctx.recorder.unknown(
            source === "unknown_provider" ? unknownProviderLabel : provider,
            startedAt,
          )
          return Effect.succeed(missingReplies[source])
        },
      })
    }),
  )
}
