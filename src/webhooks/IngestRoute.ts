/**
 * `POST /webhooks/{provider}` and `POST /webhooks/{provider}/{endpoint_id}`:
 * reads the raw body under the provider's limit, verifies it, replies to
 * handshakes, claims the delivery id, appends the event to the durable stream
 * and only then acknowledges. A raw router route rather than an HttpApi
 * endpoint, because it is the hottest path of the service and needs the
 * exact bytes.
 *
 * Statuses: 200 accepted or duplicate; 400 malformed or stale; 401 signature
 * or token mismatch; 404 unknown provider or endpoint; 413 body over the
 * limit; 503 the queue could not take the event, so the provider retries.
 */
import { Effect, Result } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as ServerRequest from "effect/http/HttpServerRequest"
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

const jsonResponse = (status: number, body: string, headers?: Record<string, string>) =>
  HttpServerResponse.text(body, { status, contentType: "application/json", headers })

/** The API's error body, with the status that `STATUS_BY_CODE` gives the code. */
const errorResponse = (code: string, message: string, headers?: Record<string, string>) =>
  jsonResponse(STATUS_BY_CODE[code] ?? 500, JSON.stringify({ error: { code, message } }), headers)

// Built once: responses are immutable, and most requests end in one of these.
const acceptedResponse = jsonResponse(200, '{"status":"accepted"}')
const duplicateResponse = jsonResponse(200, '{"status":"duplicate"}')
const unavailableResponse = errorResponse(
  "store_unavailable",
  "The event queue did not accept the event; retry later.",
  { "retry-after": "1" },
)
const missingResponses: Record<SourceMissing, HttpServerResponse.HttpServerResponse> = {
  unknown_provider: errorResponse("provider_not_found", "No provider has this key."),
  provider_invalid: errorResponse(
    "provider_invalid",
    "The provider is stored but cannot be used; retry later.",
    { "retry-after": "60" },
  ),
  unknown_endpoint: errorResponse("unknown_endpoint", "The provider has no such endpoint."),
  webhooks_not_configured: errorResponse(
    "webhooks_not_configured",
    "The provider has no usable webhook configuration.",
  ),
}
const invalidUrlResponse = errorResponse("invalid_request", "The request URL is invalid.")

const handshakeResponse = (handshake: NonNullable<VerifiedDelivery["handshake"]>) =>
  HttpServerResponse.text(handshake.body, {
    status: handshake.status,
    contentType: handshake.contentType,
  })

interface IngestContext {
  readonly admission: EventAdmission["Service"]
  readonly recorder: IngestRecorder
  readonly now: () => number
}

/**
 * Claims the delivery id, appends the event and acknowledges. Runs
 * uninterruptibly: a client that disconnects mid-request must not cut the
 * embedded claim-then-append sequence in two.
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
        return acceptedResponse
      }
      ctx.recorder.duplicate(source, deliveryId!, startedAt)
      return duplicateResponse
    }),
    Effect.catchTag("StoreError", (error) =>
      Effect.as(ctx.recorder.unavailable(source, error, startedAt), unavailableResponse),
    ),
    Effect.uninterruptible,
  )
}

const rejectFailure = (
  ctx: IngestContext,
  source: WebhookSource,
  error: WebhookRejected | BodyTooLarge | BodyUnreadable,
  startedAt: number,
) => {
  if (error instanceof WebhookRejected) {
    const response = errorResponse(error.code, error.message)
    return ctx.recorder
      .rejected(source, "rejected", error.reason, error, startedAt)
      .pipe(Effect.as(response))
  }
  if (error instanceof BodyTooLarge) {
    return ctx.recorder
      .rejected(source, "too_large", "payload_too_large", undefined, startedAt)
      .pipe(Effect.as(errorResponse("payload_too_large", error.message)))
  }
  return ctx.recorder
    .rejected(source, "malformed", "malformed_body", undefined, startedAt)
    .pipe(Effect.as(errorResponse("malformed_body", error.message)))
}

const ingest = (
  ctx: IngestContext,
  sources: WebhookSources["Service"],
  request: HttpServerRequest.HttpServerRequest,
  params: Readonly<Record<string, string | undefined>>,
) => {
  const startedAt = performance.now()
  const source = sources.find(params.provider ?? "", params.endpoint_id)
  if (typeof source === "string") {
    // Only configured keys become metric labels; a path is attacker-chosen.
    ctx.recorder.unknown(
      source === "unknown_provider" ? unknownProviderLabel : params.provider!,
      startedAt,
    )
    return Effect.succeed(missingResponses[source])
  }
  ctx.recorder.received(source)

  const web = ServerRequest.toWebResult(request)
  if (Result.isFailure(web)) return Effect.succeed(invalidUrlResponse)
  const raw = web.success

  return readLimitedBody(raw, source.maxBodyBytes).pipe(
    Effect.flatMap((body) =>
      source
        .verify({
          headers: (name) => raw.headers.get(name),
          body,
          nowSeconds: Math.floor(ctx.now() / 1000),
        })
        .pipe(
          Effect.flatMap((delivery) => {
            if (delivery.handshake === undefined) {
              return enqueue(ctx, source, raw, body, delivery, startedAt)
            }
            ctx.recorder.handshake(source, startedAt)
            return Effect.succeed(handshakeResponse(delivery.handshake))
          }),
        ),
    ),
    Effect.catch((error) => rejectFailure(ctx, source, error, startedAt)),
  )
}

/** The two ingest routes, for `makeHttpApp`. */
export const WebhookIngestRoutes = HttpRouter.use((router) =>
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

    const handler = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.flatMap(HttpRouter.params, (params) => ingest(ctx, sources, request, params))
    yield* router.add("POST", "/webhooks/:provider", handler)
    yield* router.add("POST", "/webhooks/:provider/:endpoint_id", handler)
  }),
)
