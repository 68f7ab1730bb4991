import { Data } from "effect"

/**
 * Cause of a rejection. Several reasons share one public code, so logs
 * can tell an expired token from a foreign issuer while the response stays
 * stable.
 */
export type WebhookRejectionReason =
  | "missing_header"
  | "malformed_header"
  | "malformed_body"
  | "timestamp_too_old"
  | "timestamp_in_future"
  | "signature_mismatch"
  | "token_mismatch"
  | "token_signature_invalid"
  | "token_malformed"
  | "token_expired"
  | "token_claim_invalid"
  | "audience_mismatch"
  | "issuer_mismatch"
  | "email_mismatch"
  | "email_unverified"
  | "unknown_channel"
  | "resource_mismatch"

/** Stable public error code sent to the provider and used in metrics. */
export type WebhookRejectionCode =
  | "missing_header"
  | "malformed_header"
  | "malformed_body"
  | "stale_timestamp"
  | "signature_mismatch"
  | "invalid_token"
  | "unknown_channel"

const codeByReason: Record<WebhookRejectionReason, WebhookRejectionCode> = {
  missing_header: "missing_header",
  malformed_header: "malformed_header",
  malformed_body: "malformed_body",
  timestamp_too_old: "stale_timestamp",
  timestamp_in_future: "stale_timestamp",
  signature_mismatch: "signature_mismatch",
  token_mismatch: "invalid_token",
  token_signature_invalid: "invalid_token",
  token_malformed: "invalid_token",
  token_expired: "invalid_token",
  token_claim_invalid: "invalid_token",
  audience_mismatch: "invalid_token",
  issuer_mismatch: "invalid_token",
  email_mismatch: "invalid_token",
  email_unverified: "invalid_token",
  unknown_channel: "unknown_channel",
  resource_mismatch: "unknown_channel",
}

const descriptionByReason: Record<WebhookRejectionReason, string> = {
  missing_header: "required header is missing",
  malformed_header: "header value is malformed",
  malformed_body: "request body is malformed",
  timestamp_too_old: "timestamp is older than the tolerance",
  timestamp_in_future: "timestamp is further in the future than the tolerance",
  signature_mismatch: "no signature matches the request",
  token_mismatch: "channel token does not match",
  token_signature_invalid: "token signature does not verify against the key set",
  token_malformed: "token is not a valid signed JWT",
  token_expired: "token has expired",
  token_claim_invalid: "token lacks a required claim or is not yet valid",
  audience_mismatch: "token audience is not the configured audience",
  issuer_mismatch: "token issuer is not a Google issuer",
  email_mismatch: "token email is not the configured service account",
  email_unverified: "token email is not verified",
  unknown_channel: "channel is not known",
  resource_mismatch: "resource id does not match the channel's resource",
}

/**
 * A delivery that failed verification. It carries header names and numbers
 * only: never a secret, a signature, a token or body content.
 */
export class WebhookRejected extends Data.TaggedError("WebhookRejected")<{
  readonly reason: WebhookRejectionReason
  /** Lower-case name of the header involved, when one is. */
  readonly header: string | undefined
  /** Seconds between the receive time and the signed timestamp (positive = in the past). */
  readonly skewSeconds: number | undefined
  readonly message: string
}> {
  /** Builds a rejection with a message derived from its reason. */
  static make(
    reason: WebhookRejectionReason,
    header?: string,
    skewSeconds?: number,
  ): WebhookRejected {
    let message = `webhook rejected: ${descriptionByReason[reason]}`
    if (header !== undefined) message += ` (header ${header})`
    if (skewSeconds !== undefined) message += ` (skew ${skewSeconds} s)`
    return new WebhookRejected({ reason, header, skewSeconds, message })
  }

  get code(): WebhookRejectionCode {
    return codeByReason[this.reason]
  }

  /** 401 when the sender failed to authenticate, 400 when the request is unreadable. */
  get httpStatus(): 400 | 401 {
    const code = this.code
    return code === "signature_mismatch" || code === "invalid_token" || code === "unknown_channel"
      ? 401
      : 400
  }
}
