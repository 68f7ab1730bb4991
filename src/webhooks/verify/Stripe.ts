import { findMatchingKey, hmacKeysFromSecrets } from "./Hmac.ts"
import { parseJsonObject, stringField } from "./Payload.ts"
import { requireHeader } from "./RequestHeaders.ts"
import { defaultToleranceSeconds, type StripeOptions } from "./Scheme.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { checkTimestampText } from "./Timestamp.ts"
import { emptyDelivery, fromSyncCheck, makeWebhookVerifier } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const signatureHeader = "stripe-signature"

/** The entries of a `Stripe-Signature` header that verification uses. */
interface StripeSignatureHeader {
  readonly timestamp: string
  readonly signatures: ReadonlyArray<string>
}

/**
 * Splits `t=...,v1=...,v1=...`. Other schemes such as `v0` are ignored, and
 * a header without exactly one `t` is malformed.
 */
const parseSignatureHeader = (value: string): StripeSignatureHeader | undefined => {
  let timestamp: string | undefined
  const signatures: Array<string> = []

  for (const item of value.split(",")) {
    if (item.trim() === "") continue
    const separator = item.indexOf("=")
    if (separator < 0) return undefined
    const key = item.slice(0, separator).trim()
    const entry = item.slice(separator + 1).trim()

    if (key === "t") {
      if (timestamp !== undefined) return undefined
      timestamp = entry
    } else if (key === "v1") {
      signatures.push(entry)
    }
  }
  return timestamp === undefined ? undefined : { timestamp, signatures }
}

/**
 * Stripe: hex HMAC-SHA256 of `{t}.{body}` with the endpoint secret, used
 * whole including `whsec_`. Any `v1` entry may match, because the header can
 * carry several, for example while an endpoint secret is rolled.
 */
export const StripeVerifier = makeWebhookVerifier<StripeOptions>("stripe", (config) => {
  const keys = hmacKeysFromSecrets("sha256", config.secrets)
  const toleranceSeconds = config.options.toleranceSeconds ?? defaultToleranceSeconds

  return fromSyncCheck((request) => {
    const value = requireHeader(request, signatureHeader)
    if (value instanceof WebhookRejected) return value
    const header = parseSignatureHeader(value)
    if (header === undefined) return WebhookRejected.make("malformed_header", signatureHeader)

    const timestamp = checkTimestampText(
      header.timestamp,
      signatureHeader,
      request.nowSeconds,
      toleranceSeconds,
    )
    if (timestamp instanceof WebhookRejected) return timestamp

    const candidates: Array<Buffer> = []
    for (const signature of header.signatures) {
      const candidate = decodeSignature(signature, "hex", keys.digestLength)
      if (candidate !== undefined) candidates.push(candidate)
    }
    if (findMatchingKey(keys, [timestamp.text, ".", request.body], candidates) < 0) {
      return WebhookRejected.make("signature_mismatch", signatureHeader)
    }

    const event = parseJsonObject(request.body)
    const id = stringField(event, "id")
    if (id === undefined) return WebhookRejected.make("malformed_body")
    return {
      ...emptyDelivery,
      deliveryId: id,
      // Connect deliveries name the connected account the event belongs to.
      routingKey: stringField(event, "account"),
      eventType: stringField(event, "type"),
      timestampSeconds: timestamp.seconds,
    }
  })
})
