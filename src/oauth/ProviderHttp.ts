/**
 * Sends requests to provider endpoints with the protections every provider
 * call needs: a timeout per attempt, retries with exponential backoff and
 * jitter for network failures, timeouts and 5xx, a circuit breaker and a
 * concurrency bound per provider, and request metrics.
 *
 * A 4xx or any other complete response is returned as it is, because only
 * the caller can tell what it means (an OAuth error, an already revoked token).
 */
import {
  Context,
  Duration,
  Effect,
  Exit,
  Layer,
  Redacted,
  Schedule,
  Semaphore,
  Stream,
} from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { CircuitBreaker } from "effect/persistence"
import { AppConfig } from "../config/AppConfig.ts"
import { ProviderCallError, type ProviderOperation } from "./OAuthErrors.ts"
import * as OAuthMetrics from "./OAuthMetrics.ts"
import type { ProviderRequest } from "./protocol/ProviderRequest.ts"
import type { ProviderResponse } from "./protocol/ResponseBody.ts"

export interface ProviderHttpOptions {
  /** Retries after the first attempt. Default 2. */
  readonly retries?: number | undefined
  /** Delay before the first retry, doubled for each next one, with jitter. Default 200 ms. */
  readonly retryBaseDelay?: Duration.Input | undefined
  /** Consecutive failed calls that open a provider's circuit. Default 5. */
  readonly breakerFailures?: number | undefined
  /** How long an open circuit rejects calls before one probe. Default 30 seconds. */
  readonly breakerOpenDuration?: Duration.Input | undefined
  /** Concurrent requests per provider. Default PROVIDER_CONCURRENCY. */
  readonly maxConcurrentPerProvider?: number | undefined
}

/**
 * Largest provider response body read, in bytes. Token and revocation
 * responses are a few kilobytes; a larger body is cut off as a failed call
 * rather than read into memory whole.
 */
const MAX_RESPONSE_BYTES = 1024 * 1024

class ResponseTooLarge extends Error {
  constructor() {
    super(`the provider's response is larger than ${MAX_RESPONSE_BYTES} bytes`)
  }
}

const readLimitedText = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runFoldEffect(
    stream,
    () => ({ chunks: [] as Array<Uint8Array>, size: 0 }),
    (acc, chunk) => {
      acc.size += chunk.byteLength
      if (acc.size > MAX_RESPONSE_BYTES) return Effect.fail(new ResponseTooLarge())
      acc.chunks.push(chunk)
      return Effect.succeed(acc)
    },
  ).pipe(Effect.map((acc) => Buffer.concat(acc.chunks).toString("utf8")))

export class ProviderHttp extends Context.Service<
  ProviderHttp,
  {
    /**
     * Sends one request. `retries` overrides the configured count, for
     * callers that have a durable retry of their own.
     */
    readonly send: (
      providerKey: string,
      operation: ProviderOperation,
      request: ProviderRequest,
      sendOptions?: { readonly retries?: number | undefined },
    ) => Effect.Effect<ProviderResponse, ProviderCallError>
  }
>()("app/oauth/ProviderHttp") {
  /** Needs an `HttpClient`, such as `FetchHttpClient.layer`, and a `CircuitBreakerStore`. */
  static readonly layer = (options: ProviderHttpOptions = {}) =>
    Layer.effect(ProviderHttp, make(options))
}

/** An attempt that may succeed when repeated. */
class RetryableAttempt {
  constructor(
    readonly reason: "timeout" | "unreachable" | "server_error",
    readonly response: ProviderResponse | undefined,
    readonly cause: unknown,
  ) {}
}

const BREAKER_PREFIX = "oauth-provider:"

const toHttpRequest = (request: ProviderRequest) => {
  const base = HttpClientRequest.make(request.method)(request.url)
  const headers: Record<string, string> = { ...request.headers }
  for (const [name, value] of Object.entries(request.secretHeaders)) {
    headers[name] = Redacted.value(value)
  }
  const withHeaders = HttpClientRequest.setHeaders(base, headers)
  if (request.body === undefined) return withHeaders
  return HttpClientRequest.bodyText(
    withHeaders,
    Redacted.value(request.body),
    headers["content-type"] ?? "application/x-www-form-urlencoded",
  )
}

const make = (options: ProviderHttpOptions) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const settings = yield* AppConfig
    const breaker = yield* CircuitBreaker.make({
      tripPolicy: CircuitBreaker.consecutive(options.breakerFailures ?? 5),
      openDuration: options.breakerOpenDuration ?? "30 seconds",
    })
    yield* breaker.transitions.pipe(
      Stream.runForEach((transition) =>
        OAuthMetrics.setCircuitState(transition.key.slice(BREAKER_PREFIX.length), transition.to),
      ),
      Effect.forkScoped,
    )

    const semaphores = new Map<string, Semaphore.Semaphore>()
    const semaphoreFor = (providerKey: string) => {
      let semaphore = semaphores.get(providerKey)
      if (semaphore === undefined) {
        semaphore = Semaphore.makeUnsafe(
          options.maxConcurrentPerProvider ?? settings.providerConcurrency,
        )
        semaphores.set(providerKey, semaphore)
      }
      return semaphore
    }

    const retrySchedule = Schedule.exponential(options.retryBaseDelay ?? "200 millis").pipe(
      Schedule.jittered,
    )

    const attempt = (providerKey: string, operation: ProviderOperation, request: ProviderRequest) =>
      Effect.gen(function* () {
        const startedAt = performance.now()
        const record = (status: string) =>
          OAuthMetrics.observe(
            OAuthMetrics.providerRequestDuration,
            { provider: providerKey, operation, status },
            (performance.now() - startedAt) / 1000,
          )

        const exchange = Effect.gen(function* () {
          const response = yield* client.execute(toHttpRequest(request))
          const body = yield* readLimitedText(response.stream)
          const result: ProviderResponse = {
            status: response.status,
            contentType: response.headers["content-type"],
            body,
            retryAfter: response.headers["retry-after"],
          }
          return result
        })

        const outcome = yield* exchange.pipe(
          Effect.timeoutOrElse({
            duration: settings.providerTimeout,
            orElse: () => Effect.fail(new RetryableAttempt("timeout", undefined, undefined)),
          }),
          Effect.mapError((error) =>
            error instanceof RetryableAttempt
              ? error
              : new RetryableAttempt("unreachable", undefined, error),
          ),
          Effect.tapError((error) => record(error.reason === "timeout" ? "timeout" : "error")),
        )
        yield* record(String(outcome.status))
        if (outcome.status >= 500) {
          return yield* Effect.fail(new RetryableAttempt("server_error", outcome, undefined))
        }
        return outcome
      })

    const send = (
      providerKey: string,
      operation: ProviderOperation,
      request: ProviderRequest,
      sendOptions: { readonly retries?: number | undefined } = {},
    ) => {
      const retries = sendOptions.retries ?? options.retries ?? 2
      const withRetries = attempt(providerKey, operation, request).pipe(
        Effect.retry({ schedule: retrySchedule, times: retries }),
        // A 5xx that outlived the retries is still a response. The caller
        // parses it, and the breaker counts it as a failure below.
        Effect.catch((error) =>
          error.reason === "server_error" && error.response !== undefined
            ? Effect.succeed(error.response)
            : Effect.fail(error),
        ),
      )

      const guarded = breaker.execute(withRetries, {
        key: BREAKER_PREFIX + providerKey,
        classify: (exit) =>
          Exit.isSuccess(exit) && exit.value.status < 500
            ? CircuitBreaker.success
            : CircuitBreaker.failure(),
      })

      return semaphoreFor(providerKey)
        .withPermit(guarded)
        .pipe(
          Effect.mapError((error): ProviderCallError => {
            if (error instanceof RetryableAttempt) {
              const failure = error.reason === "timeout" ? "timed out" : "could not be reached"
              return new ProviderCallError({
                reason: error.reason,
                providerKey,
                operation,
                status: undefined,
                retryAfterSeconds: undefined,
                message:
                  `The ${operation} request to provider ${providerKey} ${failure} ` +
                  `after ${retries + 1} attempt(s).`,
                cause: error.cause,
              })
            }
            const retryAfter =
              error.reason._tag === "CircuitOpen"
                ? Math.ceil(Duration.toSeconds(error.reason.retryAfter))
                : undefined
            return new ProviderCallError({
              reason: "circuit_open",
              providerKey,
              operation,
              status: undefined,
              retryAfterSeconds: retryAfter,
              message:
                `Provider ${providerKey} is unavailable: its recent requests failed, so ` +
                `requests are paused${retryAfter === undefined ? "" : ` for ${retryAfter} s`}.`,
            })
          }),
          Effect.tapError((error) =>
            error.reason === "circuit_open"
              ? OAuthMetrics.observe(
                  OAuthMetrics.providerRequestDuration,
                  { provider: providerKey, operation, status: "circuit_open" },
                  0,
                )
              : Effect.void,
          ),
          Effect.withSpan("ProviderHttp.send", {
            attributes: { provider: providerKey, operation, "http.request.method": request.method },
          }),
        )
    }

    return ProviderHttp.of({ send })
  })
