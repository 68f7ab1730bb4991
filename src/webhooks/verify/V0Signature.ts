import { findMatchingKey, type HmacKeySet } from "./Hmac.ts"
import { requireHeader } from "./RequestHeaders.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { type CheckedTimestamp, checkTimestampHeader } from "./Timestamp.ts"
import type { WebhookRequest } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const signaturePrefix = "v0="

export interface V0Headers {
  readonly signature: string
  readonly timestamp: string
}

/**
 * Checks the `v0` signature that Slack and Zoom share: `v0=` and the hex
 * HMAC-SHA256 of `v0:{timestamp}:{body}`. The timestamp tolerance is
 * checked before any HMAC. Returns the checked timestamp and the index of
 * the secret that matched, which Zoom needs to reply to its handshake.
 */
export const checkV0Signature = (
  request: WebhookRequest,
  keys: HmacKeySet,
  headers: V0Headers,
  toleranceSeconds: number,
): { readonly timestamp: CheckedTimestamp; readonly keyIndex: number } | WebhookRejected => {
  const signature = requireHeader(request, headers.signature)
  if (signature instanceof WebhookRejected) return signature
  if (!signature.startsWith(signaturePrefix)) {
    return WebhookRejected.make("malformed_header", headers.signature)
  }

  const timestamp = checkTimestampHeader(request, headers.timestamp, toleranceSeconds)
  if (timestamp instanceof WebhookRejected) return timestamp

  const candidate = decodeSignature(
    signature.slice(signaturePrefix.length),
    "hex",
    keys.digestLength,
  )
  const signed = ["v0:", timestamp.text, ":", request.body]
  const keyIndex = findMatchingKey(keys, signed, candidate === undefined ? [] : [candidate])
  if (keyIndex < 0) return WebhookRejected.make("signature_mismatch", headers.signature)
  return { timestamp, keyIndex }
}
