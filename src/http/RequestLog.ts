/**
 * Logs one line per request (method, route, status, duration) and records
 * the HTTP metrics. The query string is never logged, because OAuth
 * callbacks carry the authorization code and state there. Failures that no
 * route turned into a response become JSON errors here: an unknown route is
 * 404 `not_found`, a body over the limit 413, a body of another media type
 * 415, anything else 500.
 */
import { Cause, Effect, Metric } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as HttpMetrics from "../observability/HttpMetrics.ts"
import { errorBody } from "./ApiErrors.ts"

const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/** Returns the path of an absolute URL such as `http://host:port/path?query`. */
export const pathOfUrl = (url: string): string => {
  const scheme = url.indexOf("://")
  const slash = scheme === -1 ? 0 : url.indexOf("/", scheme + 3)
  return slash === -1 ? "/" : pathOf(url.slice(slash))
}

/** The route label of a request that no route matched. */
export const UNMATCHED_ROUTE = "unmatched"

/** Path segments that name routes; every other segment is a parameter. */
const ROUTE_WORDS = new Set([
  "v1",
  "api-keys",
  "providers",
  "connect-sessions",
  "integrations",
  "token",
  "webhooks",
  "endpoints",
  "dead-letters",
  "replay",
  "counters",
  "analytics",
  "oauth",
  "callback",
  "health",
  "ready",
  "metrics",
  "docs",
  "openapi.json",
])

/**
 * Builds the route label of a metric. Ids, provider keys and other
 * parameters become `:param`, and a request no route matched becomes
 * `unmatched`, so clients cannot create new series by inventing paths.
 */
const routeLabel = (path: string, status: number): string => {
  // Empty segments (`//`) and deep paths are no route's shape either.
  if (status === 404 || status === 405 || path.includes("//") || path.length > 512) {
    return UNMATCHED_ROUTE
  }
  return path
    .split("/")
    .map((segment) => (segment === "" || ROUTE_WORDS.has(segment) ? segment : ":param"))
    .join("/")
}

/**
 * The labelled metrics of each method, route and status, built once: the
 * labels are bounded (see `routeLabel`), so the cache is too.
 */
const metricsByLabels = new Map<
  string,
  {
    readonly counter: Metric.Metric<number, unknown>
    readonly histogram: Metric.Metric<number, unknown>
  }
>()

const labelledMetrics = (method: string, route: string, status: number) => {
  const key = `${method} ${route} ${status}`
  let metrics = metricsByLabels.get(key)
  if (metrics === undefined) {
    metrics = {
      counter: Metric.withAttributes(HttpMetrics.requestsTotal, {
        method,
        route,
        status: String(status),
      }),
      histogram: Metric.withAttributes(HttpMetrics.requestDuration, { method, route }),
    }
    metricsByLabels.set(key, metrics)
  }
  return metrics
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** Records the HTTP metrics of one request and logs its line. */
export const recordRequest = (request: {
  readonly method: string
  readonly path: string
  readonly route: string
  readonly status: number
  readonly startedAt: number
}) =>
  Effect.gen(function* () {
    const seconds = (performance.now() - request.startedAt) / 1000
    const method = METHODS.has(request.method) ? request.method : "OTHER"
    const { counter, histogram } = labelledMetrics(method, request.route, request.status)
    yield* Metric.update(counter, 1)
    yield* Metric.update(histogram, seconds)
    yield* Effect.logInfo("request").pipe(
      Effect.annotateLogs({
        method: request.method,
        path: request.path,
        status: request.status,
        duration_ms: Math.round(seconds * 100_000) / 100,
      }),
    )
  })

const record = (
  request: HttpServerRequest.HttpServerRequest,
  status: number,
  startedAt: number,
) => {
  const path = pathOf(request.url)
  return recordRequest({
    method: request.method,
    path,
    route: routeLabel(path, status),
    status,
    startedAt,
  })
}

const failureResponse = (
  request: HttpServerRequest.HttpServerRequest,
  cause: Cause.Cause<unknown>,
) => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  const error = Cause.squash(cause) as { _tag?: string; reason?: { _tag?: string } }
  if (error?._tag === "HttpServerError" && error.reason?._tag === "RouteNotFound") {
    return Effect.succeed(
      HttpServerResponse.jsonUnsafe(
        errorBody("not_found", `No route matches ${request.method} ${pathOf(request.url)}.`),
        { status: 404 },
      ),
    )
  }
  if (error?._tag === "HttpServerError" && error.reason?._tag === "RequestParseError") {
    if ((error.reason as { reason?: string }).reason === "BodyTooLarge") {
      return Effect.succeed(
        HttpServerResponse.jsonUnsafe(
          errorBody(
            "payload_too_large",
            "The request body is larger than the limit (MAX_REQUEST_BODY).",
          ),
          { status: 413 },
        ),
      )
    }
    return Effect.succeed(
      HttpServerResponse.jsonUnsafe(
        errorBody("invalid_request", "The request body could not be read."),
        {
          status: 400,
        },
      ),
    )
  }
  return Effect.logError("request failed", cause).pipe(
    Effect.as(
      HttpServerResponse.jsonUnsafe(
        errorBody("internal_error", "The request failed unexpectedly."),
        {
          status: 500,
        },
      ),
    ),
  )
}

export const RequestLogLive = HttpRouter.middleware(
  (httpEffect) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const startedAt = performance.now()
      const routed: HttpServerResponse.HttpServerResponse = yield* httpEffect.pipe(
        Effect.catchCause((cause) => failureResponse(request, cause)),
      )
      // The API decoder returns a bare 415 for a body of another media type.
      const response =
        routed.status === 415
          ? HttpServerResponse.jsonUnsafe(
              errorBody(
                "unsupported_media_type",
                "Send the request body with Content-Type: application/json.",
              ),
              { status: 415 },
            )
          : routed
      yield* record(request, response.status, startedAt)
      return response
    }),
  { global: true },
)
