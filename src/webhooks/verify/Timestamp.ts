import { requireHeader } from "./RequestHeaders.ts"
import type { WebhookRequest } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

// Whole seconds since the epoch. Signs, fractions, spaces and exponents are
// rejected so that the signed text and the parsed number cannot disagree.
const secondsPattern = /^[0-9]{1,12}$/

/** A timestamp that passed the tolerance check, and its exact signed text. */
export interface CheckedTimestamp {
  readonly text: string
  readonly seconds: number
}

/**
 * Checks a timestamp against the receive time in both directions. Callers
 * run it before computing any HMAC, so stale or replayed deliveries cost no
 * hashing.
 */
export const checkTimestampText = (
  text: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds: number,
): CheckedTimestamp | WebhookRejected => {
  if (!secondsPattern.test(text)) return WebhookRejected.make("malformed_header", header)

  const seconds = Number(text)
  const skewSeconds = Math.floor(nowSeconds) - seconds
  if (skewSeconds > toleranceSeconds) {
    return WebhookRejected.make("timestamp_too_old", header, skewSeconds)
  }
  if (skewSeconds < -toleranceSeconds) {
    return WebhookRejected.make("timestamp_in_future", header, skewSeconds)
  }
  return { text, seconds }
}

/** Reads a timestamp header and checks it with {@link checkTimestampText}. */
export const checkTimestampHeader = (
  request: WebhookRequest,
  header: string,
  toleranceSeconds: number,
): CheckedTimestamp | WebhookRejected => {
  const text = requireHeader(request, header)
  if (text instanceof WebhookRejected) return text
  return checkTimestampText(text, header, request.nowSeconds, toleranceSeconds)
}
