/**
 * Logs one line per request (method, route, status, duration) and records
 * the HTTP metrics. The query string is never logged, because OAuth
 * callbacks carry the authorization code and state there. Failures that no
 * route turned into a response become JSON errors here: an unknown route is
 * 404 `not_found`, a body over the limit 413, anything else 500.
 */
import { Cause, Effect, Metric, Option } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as HttpMetrics from "../observability/HttpMetrics.ts"
import { errorBody } from "./ApiErrors.ts"

const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/** Collapses path segments that look like ids so metric labels stay bounded. */
const routeLabel = (path: string): string =>
  path
    .split("/")
    .map((segment, index) =>
      index > 2 && (/^[0-9a-f-]{16,}$/i.test(segment) || /\d/.test(segment)) ? ":id" : segment,
    )
    .join("/")

const record = (
  request: HttpServerRequest.HttpServerRequest,
  status: number,
  startedAt: number,
  route: string,
) =>
  Effect.gen(function* () {
    const seconds = (performance.now() - startedAt) / 1000
    const attributes = { method: request.method, route, status: String(status) }
    yield* Metric.update(Metric.withAttributes(HttpMetrics.requestsTotal, attributes), 1)
    yield* Metric.update(
      Metric.withAttributes(HttpMetrics.requestDuration, { method: request.method, route }),
      seconds,
    )
    yield* Effect.logInfo("request").pipe(
      Effect.annotateLogs({
        method: request.method,
        path: pathOf(request.url),
        status,
        duration_ms: Math.round(seconds * 100_000) / 100,
      }),
    )
  })

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
      const routeContext = yield* Effect.serviceOption(HttpRouter.RouteContext)
      const route = Option.match(routeContext, {
        onNone: () => routeLabel(pathOf(request.url)),
        onSome: (context) => context.route.path,
      })
      const response: HttpServerResponse.HttpServerResponse = yield* httpEffect.pipe(
        Effect.catchCause((cause) => failureResponse(request, cause)),
      )
      yield* record(request, response.status, startedAt, route)
      return response
    }),
  { global: true },
)
