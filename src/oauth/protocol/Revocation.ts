/** Classification of a revocation endpoint's response (RFC 7009 §2.2). */
import type { OAuthQuirks } from "../catalog/Template.ts"
import {
  getPath,
  type ProviderResponse,
  parseRetryAfter,
  readResponseBody,
} from "./ResponseBody.ts"

/**
 * - `Revoked`: the provider revoked the token.
 * - `AlreadyRevoked`: the token was invalid or unknown, which RFC 7009 §2.2
 *   counts as success, since the goal of revocation is met.
 * - `RetryLater`: a 5xx or 429. Keep a durable record and try again.
 * - `Failed`: any other response. Retrying the same request will not help.
 */
export type RevocationOutcome =
  | { readonly _tag: "Revoked"; readonly status: number }
  | { readonly _tag: "AlreadyRevoked"; readonly status: number; readonly error: string | undefined }
  | {
      readonly _tag: "RetryLater"
      readonly status: number
      readonly retryAfterSeconds: number | undefined
    }
  | { readonly _tag: "Failed"; readonly status: number; readonly error: string | undefined }

/** The quirks that shape a revocation response. `OAuthClient` has all of them. */
export type RevocationQuirks = Pick<OAuthQuirks, "revocation" | "errorInSuccessBody">

/** Error code that RFC 7009 §2.2 implies for a token that is no longer valid. */
const INVALID_TOKEN = "invalid_token"

/** Classifies the response to one revocation request. */
export const classifyRevocationResponse = (
  quirks: RevocationQuirks,
  response: ProviderResponse,
): RevocationOutcome => {
  const { status } = response
  if (status >= 500 || status === 429) {
    return { _tag: "RetryLater", status, retryAfterSeconds: parseRetryAfter(response.retryAfter) }
  }

  const alreadyRevokedErrors = quirks.revocation?.alreadyRevokedErrors ?? [INVALID_TOKEN]
  const alreadyRevokedStatuses = quirks.revocation?.alreadyRevokedStatuses ?? []
  const error = readError(quirks, response)

  if (status >= 200 && status < 300) {
    if (error === undefined) return { _tag: "Revoked", status }
    // A 2xx with an error body, such as Slack's `{"ok": false}`.
    return alreadyRevokedErrors.includes(error)
      ? { _tag: "AlreadyRevoked", status, error }
      : { _tag: "Failed", status, error }
  }

  const isClientError = status >= 400 && status < 500
  if (alreadyRevokedStatuses.includes(status)) return { _tag: "AlreadyRevoked", status, error }
  if (isClientError && error !== undefined && alreadyRevokedErrors.includes(error)) {
    return { _tag: "AlreadyRevoked", status, error }
  }
  return { _tag: "Failed", status, error }
}

/** Returns the provider's error code, or undefined when the body reports none. */
const readError = (quirks: RevocationQuirks, response: ProviderResponse): string | undefined => {
  // Revocation bodies are often empty, so an unreadable body means no error.
  const body = readResponseBody(response)
  if (!body.ok) return undefined

  const rule = quirks.errorInSuccessBody
  if (rule !== undefined) {
    const flag = getPath(body.fields, rule.field)
    if (flag === rule.equals || (typeof flag === "string" && flag === String(rule.equals))) {
      const code = getPath(body.fields, rule.errorPath)
      return typeof code === "string" && code !== "" ? code : "unknown_error"
    }
  }
  const error = body.fields.error
  return typeof error === "string" && error !== "" ? error : undefined
}
