import type { WebhookRequest } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

/**
 * Maximum length of any header that verification reads. Real signature and
 * token headers are far shorter, and longer values are rejected before any
 * parsing or hashing.
 */
export const maxHeaderLength = 8192

/** Reads a header that must be present and non-empty. */
export const requireHeader = (request: WebhookRequest, name: string): string | WebhookRejected => {
  const value = request.headers(name)
  if (value === null) return WebhookRejected.make("missing_header", name)

  const trimmed = value.trim()
  if (trimmed.length === 0 || trimmed.length > maxHeaderLength) {
    return WebhookRejected.make("malformed_header", name)
  }
  return trimmed
}

/** Reads a header that only adds information, such as a delivery id. */
export const optionalHeader = (request: WebhookRequest, name: string): string | undefined => {
  const value = request.headers(name)?.trim()
  return value === undefined || value.length === 0 || value.length > maxHeaderLength
    ? undefined
    : value
}
