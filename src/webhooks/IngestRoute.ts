/**
 * The HTTP front doors of webhook ingest (src/webhooks/WebhookIngest.ts):
 * `POST /webhooks/{provider}` and `POST /webhooks/{provider}/{endpoint_id}`.
 *
 * Bun's own routes serve them before the Effect HTTP stack: the hottest path
 * of the service needs the exact bytes and nothing of the router, the API
 * middleware or the response conversion. Each such request runs one Effect
 * and records the same request log line and HTTP metrics as every other
 * route. The provider key and endpoint id come from the request's
 * normalized path, the one the log shows.
 *
 * Bun's router matches the raw path only, so other spellings of the same
 * route (`//webhooks/gh`, `/webhooks/x/../gh`) reach the Effect router,
 * which serves them through the same ingest as a fallback. Other methods on
 * these paths get the router's JSON 404.
 */
import { Cause, Effect, Result } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as ServerRequest from "effect/http/HttpServerRequest"
import { pathOfUrl, recordRequest, UNMATCHED_ROUTE } from "../http/RequestLog.ts"
import { errorReply, internalErrorReply, type Reply, WebhookIngest } from "./WebhookIngest.ts"

/** A request handler for Bun's `routes` option. */
export type IngestHandler = (request: Request) => Promise<Response>

const ROUTE_PATTERNS = [
  "/webhooks/:provider",
  "/webhooks/:provider/",
  "/webhooks/:provider/:endpoint_id",
  "/webhooks/:provider/:endpoint_id/",
] as const

const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    // A malformed escape names no provider; the lookup reports it unknown.
    return segment
  }
}

/**
 * Splits an ingest path into its provider key and endpoint id, ignoring one
 * trailing slash; undefined when the path has no ingest route's shape.
 */
export const parseIngestPath = (
  path: string,
): { readonly provider: string; readonly endpointId: string | undefined } | undefined => {
  const segments = (path.endsWith("/") ? path.slice(0, -1) : path).split("/")
  if (segments[0] !== "" || segments[1] !== "webhooks") return undefined
  if (segments.length !== 3 && segments.length !== 4) return undefined
  if (segments.slice(2).some((segment) => segment === "")) return undefined
  return {
    provider: decodeSegment(segments[2]!),
    endpointId: segments[3] === undefined ? undefined : decodeSegment(segments[3]),
  }
}

const routeLabelOf = (endpointId: string | undefined, status: number) => {
  if (status === 404) return UNMATCHED_ROUTE
  return endpointId === undefined ? "/webhooks/:param" : "/webhooks/:param/:param"
}

/**
 * Builds the handlers for `Bun.serve({ routes })`, keyed by pattern. Each
 * handler runs with the services of the layer that builds it.
 */
export const makeIngestRoutes = Effect.gen(function* () {
  const { ingest } = yield* WebhookIngest
  const run = Effect.runPromiseWith(yield* Effect.context<never>())

  const handler: IngestHandler = (request) => {
    const startedAt = performance.now()
    const path = pathOfUrl(request.url)
    const target = parseIngestPath(path)
    const reply: Effect.Effect<Reply> =
      target === undefined
        ? Effect.succeed(errorReply("not_found", `No route matches POST ${path}.`))
        : ingest(request, target.provider, target.endpointId, startedAt)
    const served = reply.pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.as(Effect.logError("request failed", cause), internalErrorReply),
      ),
      Effect.tap((done) =>
        recordRequest({
          method: "POST",
          path,
          route: routeLabelOf(target?.endpointId, done.status),
          status: done.status,
          startedAt,
        }),
      ),
    )
    return run(served).then(
      (done) => new Response(done.body, { status: done.status, headers: done.headers }),
    )
  }

  return Object.fromEntries(ROUTE_PATTERNS.map((pattern) => [pattern, { POST: handler }]))
})

const toServerResponse = (reply: Reply) => {
  const { "content-type": contentType, ...headers } = reply.headers
  return HttpServerResponse.text(reply.body, { status: reply.status, contentType, headers })
}

/**
 * The same routes in the Effect router, for the spellings that Bun's router
 * does not match. The request log middleware records these requests.
 */
export const WebhookIngestFallbackRoutes = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const { ingest } = yield* WebhookIngest
    const handler = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function* () {
        const startedAt = performance.now()
        const params = yield* HttpRouter.params
        const web = ServerRequest.toWebResult(request)
        if (Result.isFailure(web)) {
          return toServerResponse(errorReply("invalid_request", "The request URL is invalid."))
        }
        // A client that disconnects must not cut the claim-then-append
        // sequence of an embedded queue in two.
        const reply = yield* Effect.uninterruptible(
          ingest(web.success, params.provider ?? "", params.endpoint_id, startedAt),
        )
        return toServerResponse(reply)
      })
    yield* router.add("POST", "/webhooks/:provider", handler)
    yield* router.add("POST", "/webhooks/:provider/:endpoint_id", handler)
  }),
)
