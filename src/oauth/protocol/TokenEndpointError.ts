/** Failures of a token endpoint request, classified for retries and for users. */
import { Data } from "effect"

/**
 * - `provider_error`: the provider returned an OAuth error (RFC 6749 §5.2),
 *   with any status, including 200.
 * - `invalid_response`: a success response whose field `field` is invalid.
 * - `http_status`: an error status without a readable OAuth error.
 * - `network`: no response arrived. The HTTP layer creates these.
 */
export type TokenEndpointErrorReason =
  | "provider_error"
  | "invalid_response"
  | "http_status"
  | "network"

/** Stable public code, for API responses, metrics and redirects. */
export type TokenEndpointErrorCode =
  | "invalid_grant"
  | "provider_error"
  | "invalid_token_response"
  | "token_endpoint_http_error"
  | "token_endpoint_unreachable"

/** Provider error codes that ask the client to try again later. */
const RETRYABLE_ERRORS = new Set(["temporarily_unavailable", "server_error"])

/**
 * A failed token request. It carries the provider's error code and
 * description but never a token, a code or a secret: the response parser
 * copies only the RFC 6749 §5.2 error fields from a response.
 */
export class TokenEndpointError extends Data.TaggedError("TokenEndpointError")<{
  readonly reason: TokenEndpointErrorReason
  /** HTTP status of the response, or undefined when none arrived. */
  readonly status: number | undefined
  /** The provider's `error` code, such as `invalid_grant`. */
  readonly error: string | undefined
  readonly errorDescription: string | undefined
  readonly errorUri: string | undefined
  /** Numeric provider codes, such as Microsoft's `error_codes` (AADSTS numbers). */
  readonly errorCodes: ReadonlyArray<string>
  /** Response field that failed validation, for `invalid_response`. */
  readonly field: string | undefined
  /** Description of the problem with that field or response. */
  readonly problem: string | undefined
  /** Seconds to wait before a retry, from `Retry-After`. */
  readonly retryAfterSeconds: number | undefined
  readonly cause?: unknown
}> {
  static providerError(fields: {
    readonly status: number
    readonly error: string
    readonly errorDescription: string | undefined
    readonly errorUri: string | undefined
    readonly errorCodes: ReadonlyArray<string>
    readonly retryAfterSeconds: number | undefined
  }): TokenEndpointError {
    return new TokenEndpointError({
      reason: "provider_error",
      ...fields,
      field: undefined,
      problem: undefined,
    })
  }

  static invalidResponse(status: number, field: string, problem: string): TokenEndpointError {
    return new TokenEndpointError({ ...empty, reason: "invalid_response", status, field, problem })
  }

  static httpStatus(
    status: number,
    retryAfterSeconds: number | undefined,
    problem?: string,
  ): TokenEndpointError {
    return new TokenEndpointError({
      ...empty,
      reason: "http_status",
      status,
      retryAfterSeconds,
      problem,
    })
  }

  /** A request that got no response: a connection failure or a timeout. */
  static network(cause: unknown): TokenEndpointError {
    return new TokenEndpointError({ ...empty, reason: "network", status: undefined, cause })
  }

  /** True when the grant is dead and only a new authorization helps. */
  get invalidGrant(): boolean {
    return this.reason === "provider_error" && this.error === "invalid_grant"
  }

  /** True for network failures, 5xx, 429 and the provider errors that mean "later". */
  get retryable(): boolean {
    if (this.reason === "network") return true
    if (this.reason === "invalid_response") return false
    const status = this.status ?? 0
    if (status >= 500 || status === 429) return true
    return this.error !== undefined && RETRYABLE_ERRORS.has(this.error)
  }

  get code(): TokenEndpointErrorCode {
    if (this.reason === "provider_error") {
      return this.invalidGrant ? "invalid_grant" : "provider_error"
    }
    return codeByReason[this.reason]
  }

  override get message(): string {
    if (this.reason === "provider_error") {
      const description = this.errorDescription === undefined ? "" : `: ${this.errorDescription}`
      return `token endpoint returned error ${this.error} (HTTP ${this.status})${description}`
    }
    if (this.reason === "invalid_response") {
      return `token endpoint response has an invalid ${this.field}: ${this.problem}`
    }
    if (this.reason === "http_status") {
      const problem = this.problem === undefined ? "" : ` (${this.problem})`
      return `token endpoint returned HTTP ${this.status} without an OAuth error${problem}`
    }
    return "token endpoint request failed before a response arrived"
  }
}

const codeByReason = {
  invalid_response: "invalid_token_response",
  http_status: "token_endpoint_http_error",
  network: "token_endpoint_unreachable",
} as const satisfies Record<
  Exclude<TokenEndpointErrorReason, "provider_error">,
  TokenEndpointErrorCode
>

const empty = {
  status: undefined,
  error: undefined,
  errorDescription: undefined,
  errorUri: undefined,
  errorCodes: [],
  field: undefined,
  problem: undefined,
  retryAfterSeconds: undefined,
} as const
