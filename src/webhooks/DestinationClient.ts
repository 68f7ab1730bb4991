/**
 * One delivery attempt of a processed event to the destination: a signed
 * JSON POST, classified as delivered, worth retrying, or rejected for good.
 */
import { Duration, Effect } from "effect"
import { HttpBody, type HttpClient, HttpClientRequest } from "effect/http"
import type { DestinationSigner } from "./DestinationSigner.ts"
import { parseRetryAfter } from "./RetrySchedule.ts"

export type AttemptResult =
  | { readonly _tag: "Delivered"; readonly status: number }
  /** A timeout, a connection failure, 408, 425, 429 or 5xx. */
  | {
      readonly _tag: "Retryable"
      readonly status: number | undefined
      readonly retryAfterMillis: number | undefined
      /** Short snake_case cause for analytics: `http_503`, `timeout`, `connection_failed`. */
      readonly reason: string
      readonly error: string
    }
  /** Any other status: the destination rejects the event, so retrying cannot help. */
  | {
      readonly _tag: "Rejected"
      readonly status: number
      readonly reason: string
      readonly error: string
    }

const retryableStatuses = new Set([408, 425, 429])

/** Keeps error text short and printable; it ends up in dead letters and logs. */
const excerpt = (text: string): string => text.replace(/\s+/g, " ").trim().slice(0, 200)

export interface DestinationRequest {
  readonly url: string
  readonly eventId: string
  readonly body: string
}

export const makeDestinationClient = (options: {
  readonly client: HttpClient.HttpClient
  readonly signer: DestinationSigner
  readonly timeout: Duration.Input
  readonly nowMillis: () => number
}) => {
  const timeoutMillis = Duration.toMillis(Duration.fromInputUnsafe(options.timeout))

  return (request: DestinationRequest): Effect.Effect<AttemptResult> => {
    const signed = options.signer(
      request.eventId,
      Math.floor(options.nowMillis() / 1000),
      request.body,
    )
    const httpRequest = HttpClientRequest.post(request.url, {
      headers: { ...signed, "user-agent": "oauth-webhook-service" },
      body: HttpBody.text(request.body, "application/json"),
    })

    return options.client.execute(httpRequest).pipe(
      Effect.flatMap((response) => {
        const status = response.status
        if (status >= 200 && status < 300) {
          return Effect.succeed<AttemptResult>({ _tag: "Delivered", status })
        }
        // The body only explains the failure, so a body that cannot be read
        // still leaves the status to report.
        return response.text.pipe(
          Effect.orElseSucceed(() => ""),
          Effect.map((text): AttemptResult => {
            const error = `HTTP ${status}${text === "" ? "" : `: ${excerpt(text)}`}`
            if (status >= 500 || retryableStatuses.has(status)) {
              const retryAfter = parseRetryAfter(
                response.headers["retry-after"],
                options.nowMillis(),
              )
              const reason = `http_${status}`
              return { _tag: "Retryable", status, retryAfterMillis: retryAfter, reason, error }
            }
            return { _tag: "Rejected", status, reason: `http_${status}`, error }
          }),
        )
      }),
      Effect.timeoutOrElse({
        duration: timeoutMillis,
        orElse: () =>
          Effect.succeed<AttemptResult>({
            _tag: "Retryable",
            status: undefined,
            retryAfterMillis: undefined,
            reason: "timeout",
            error: `timed out after ${timeoutMillis} ms`,
          }),
      }),
      Effect.catch((error) =>
        Effect.succeed<AttemptResult>({
          _tag: "Retryable",
          status: undefined,
          retryAfterMillis: undefined,
          reason: "connection_failed",
          error: excerpt(error.message),
        }),
      ),
    )
  }
}
