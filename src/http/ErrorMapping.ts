/**
 * The one place where failures of the stores and of the domain services
 * become HTTP API errors. A domain error carries its stable public `code`
 * and a `message`; the table below gives each code its HTTP status.
 */
import { Effect } from "effect"
import { type ApiError, apiError } from "./ApiErrors.ts"

/** HTTP status of each public error code. Add a row when a module adds a code. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid_request: 400,
  invalid_config: 400,
  invalid_provider_config: 400,
  invalid_webhook_config: 400,
  unknown_template: 400,
  invalid_key_ring: 500,
  token_decryption_failed: 500,
  store_unavailable: 503,
  clickhouse_error: 503,
  invalid_analytics_query: 400,
  // A stored provider that no longer builds; 503 so webhook senders retry.
  provider_invalid: 503,
  invalid_state: 400,
  state_expired: 400,
  redirect_url_not_allowed: 400,
  provider_not_found: 404,
  provider_has_no_oauth: 400,
  provider_in_use: 409,
  integration_not_found: 404,
  integration_needs_reauth: 409,
  integration_disconnected: 409,
  token_exchange_failed: 502,
  token_refresh_failed: 502,
  provider_unavailable: 503,
  provider_timeout: 504,
  provider_error: 502,
  missing_header: 400,
  malformed_header: 400,
  malformed_body: 400,
  stale_timestamp: 400,
  signature_mismatch: 401,
  invalid_token: 401,
  unknown_channel: 401,
  unknown_endpoint: 404,
  webhooks_not_configured: 404,
  payload_too_large: 413,
  dead_letter_not_found: 404,
}

interface CodedError {
  readonly code: string
  readonly message: string
}

const isCodedError = (error: unknown): error is CodedError =>
  typeof error === "object" &&
  error !== null &&
  typeof (error as CodedError).code === "string" &&
  typeof (error as CodedError).message === "string"

const STORE_ERROR_TAGS = new Set(["SqlError", "StoreError", "ClickHouseError", "RedisError"])

/**
 * Maps any failure to an API error. Store failures are logged with their
 * cause and become 503 `store_unavailable`, because the caller may retry
 * once the store is back. A coded error with a row in `STATUS_BY_CODE`
 * keeps its code and message. Anything else is logged and becomes 500.
 */
/**
 * Postgres rejects a NUL character in text (SQLSTATE 22021, "invalid byte
 * sequence for encoding UTF8: 0x00"). It comes from the client's input, so
 * it is a bad request, not a store failure.
 */
const isNulCharacterError = (error: unknown): boolean => {
  const text = JSON.stringify(error, (_key, value) =>
    value instanceof Error ? { message: value.message, cause: value.cause } : value,
  )
  return /22021|0x00|invalid byte sequence/.test(text ?? "")
}

export const toApiError = (error: unknown): Effect.Effect<ApiError> => {
  const tag = (error as { _tag?: unknown })?._tag
  if (tag === "SqlError" && isNulCharacterError(error)) {
    return Effect.succeed(
      apiError(400, "invalid_request", "A value in the request contains a NUL character."),
    )
  }
  if (typeof tag === "string" && STORE_ERROR_TAGS.has(tag)) {
    return Effect.logError("store failed during a request", error).pipe(
      Effect.as(apiError(503, "store_unavailable", "A data store did not respond; retry later.")),
    )
  }
  if (isCodedError(error) && STATUS_BY_CODE[error.code] !== undefined) {
    const status = STATUS_BY_CODE[error.code]!
    const logged = status >= 500 ? Effect.logError("request failed", error) : Effect.void
    return logged.pipe(Effect.as(apiError(status, error.code, error.message)))
  }
  return Effect.logError("request failed", error).pipe(
    Effect.as(apiError(500, "internal_error", "The request failed unexpectedly.")),
  )
}

/** Runs `effect`, turning every failure into an API error through `toApiError`. */
export const orApiError = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, ApiError, R> => Effect.catch(effect, (error) => Effect.flip(toApiError(error)))
