/**
 * Failures of the OAuth flows. Each class has a literal `reason` and a
 * stable public `code`; `STATUS_BY_CODE` in src/http/ErrorMapping.ts gives
 * each code its HTTP status. Messages never contain a token, code or secret.
 */
import { Data } from "effect"

/** Why a callback's `state` was rejected. */
export type OAuthStateErrorReason = "missing" | "malformed" | "unknown" | "expired"

/**
 * A callback whose state is missing, not of the generated form, unknown
 * (never issued or already used), or past its lifetime.
 */
export class OAuthStateError extends Data.TaggedError("OAuthStateError")<{
  readonly reason: OAuthStateErrorReason
  readonly message: string
}> {
  get code(): "invalid_state" | "state_expired" {
    return this.reason === "expired" ? "state_expired" : "invalid_state"
  }
}

export class RedirectUrlNotAllowed extends Data.TaggedError("RedirectUrlNotAllowed")<{
  readonly reason: "origin_not_allowed" | "invalid_url"
  readonly redirectUrl: string
  readonly message: string
}> {
  get code(): "redirect_url_not_allowed" {
    return "redirect_url_not_allowed"
  }
}

export class ProviderNotFound extends Data.TaggedError("ProviderNotFound")<{
  readonly reason: "unknown_key" | "no_oauth"
  readonly providerKey: string
  readonly message: string
}> {
  get code(): "provider_not_found" | "provider_has_no_oauth" {
    return this.reason === "unknown_key" ? "provider_not_found" : "provider_has_no_oauth"
  }
}

export class IntegrationNotFound extends Data.TaggedError("IntegrationNotFound")<{
  readonly reason: "unknown_id"
  readonly integrationId: string
  readonly message: string
}> {
  get code(): "integration_not_found" {
    return "integration_not_found"
  }
}

/** The integration cannot hand out tokens until the user authorizes again. */
export class IntegrationUnusable extends Data.TaggedError("IntegrationUnusable")<{
  readonly reason: "needs_reauth" | "disconnected"
  readonly integrationId: string
  /** The provider's error code that caused `needs_reauth`, such as `invalid_grant`. */
  readonly statusReason: string | undefined
  readonly message: string
}> {
  get code(): "integration_needs_reauth" | "integration_disconnected" {
    return this.reason === "needs_reauth" ? "integration_needs_reauth" : "integration_disconnected"
  }
}

/**
 * A request to a provider endpoint that got no usable answer: its circuit is
 * open, it timed out, the connection failed, or the provider kept answering
 * 5xx after the retries.
 */
export class ProviderCallError extends Data.TaggedError("ProviderCallError")<{
  readonly reason: "circuit_open" | "timeout" | "unreachable" | "server_error"
  readonly providerKey: string
  readonly operation: ProviderOperation
  /** HTTP status of the last response, for `server_error`. */
  readonly status: number | undefined
  /** Seconds until the circuit admits a call again, for `circuit_open`. */
  readonly retryAfterSeconds: number | undefined
  readonly message: string
  readonly cause?: unknown
}> {
  get code(): "provider_unavailable" | "provider_timeout" | "provider_error" {
    if (this.reason === "circuit_open") return "provider_unavailable"
    if (this.reason === "timeout") return "provider_timeout"
    return "provider_error"
  }
}

/** Requests the service sends to providers, as metric and log labels. */
export type ProviderOperation = "token_exchange" | "token_refresh" | "revocation"

/**
 * The provider rejected or garbled a token exchange. `providerError` is the
 * provider's own code (`invalid_code`, `bad_verification_code`), which the
 * callback passes on to the application's redirect URL.
 */
export class TokenExchangeFailed extends Data.TaggedError("TokenExchangeFailed")<{
  readonly reason: "provider_error" | "invalid_response" | "http_status"
  readonly providerKey: string
  readonly providerError: string | undefined
  readonly message: string
}> {
  get code(): "token_exchange_failed" {
    return "token_exchange_failed"
  }
}

/** A refresh that failed without proving the grant dead; the caller may retry later. */
export class TokenRefreshFailed extends Data.TaggedError("TokenRefreshFailed")<{
  readonly reason: "provider_error" | "invalid_response" | "http_status" | "lock_timeout"
  readonly integrationId: string
  readonly providerError: string | undefined
  readonly message: string
}> {
  get code(): "token_refresh_failed" {
    return "token_refresh_failed"
  }
}

/** The provider still has integrations, so deleting it would orphan their tokens. */
export class ProviderInUse extends Data.TaggedError("ProviderInUse")<{
  readonly reason: "has_integrations"
  readonly providerKey: string
  readonly message: string
}> {
  get code(): "provider_in_use" {
    return "provider_in_use"
  }
}

/** Connect-session input that the provider cannot use, such as a malformed `shop`. */
export class InvalidConnectRequest extends Data.TaggedError("InvalidConnectRequest")<{
  readonly reason: "invalid_metadata" | "invalid_scopes"
  readonly field: string
  readonly message: string
}> {
  get code(): "invalid_request" {
    return "invalid_request"
  }
}
