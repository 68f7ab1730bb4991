import { Redacted } from "effect"
import { findMatchingKey, hmacKeysFromBytes } from "./Hmac.ts"
import { requireHeader } from "./RequestHeaders.ts"
import { defaultToleranceSeconds, type StandardWebhooksOptions } from "./Scheme.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { checkTimestampHeader } from "./Timestamp.ts"
import { emptyDelivery, fromSyncCheck, makeWebhookVerifier } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const idHeader = "webhook-id"
const timestampHeader = "webhook-timestamp"
const signatureHeader = "webhook-signature"

export const standardWebhooksSecretPrefix = "whsec_"

/** Decodes the key bytes: the base64 text after `whsec_`. */
export const decodeStandardWebhooksSecret = (secret: string): Buffer =>
  Buffer.from(secret.slice(standardWebhooksSecretPrefix.length), "base64")

/**
 * Standard Webhooks: base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`. The
 * signature header lists space-separated `v1,<base64>` entries, any of which
 * may match. Entries of other versions are ignored.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export const StandardWebhooksVerifier = makeWebhookVerifier<StandardWebhooksOptions>(
  "standard-webhooks",
  (config) => {
    const keys = hmacKeysFromBytes(
      "sha256",
      config.secrets.map((secret) => decodeStandardWebhooksSecret(Redacted.value(secret))),
    )
    const toleranceSeconds = config.options.toleranceSeconds ?? defaultToleranceSeconds

    return fromSyncCheck((request) => {
      const id = requireHeader(request, idHeader)
      if (id instanceof WebhookRejected) return id
      const signatures = requireHeader(request, signatureHeader)
      if (signatures instanceof WebhookRejected) return signatures

      const timestamp = checkTimestampHeader(request, timestampHeader, toleranceSeconds)
      if (timestamp instanceof WebhookRejected) return timestamp

      const candidates: Array<Buffer> = []
      for (const entry of signatures.split(" ")) {
        if (!entry.startsWith("v1,")) continue
        const candidate = decodeSignature(entry.slice(3), "base64", keys.digestLength)
        if (candidate !== undefined) candidates.push(candidate)
      }
      const signed = [id, ".", timestamp.text, ".", request.body]
      if (findMatchingKey(keys, signed, candidates) < 0) {
        return WebhookRejected.make("signature_mismatch", signatureHeader)
      }

      return { ...emptyDelivery, deliveryId: id, timestampSeconds: timestamp.seconds }
    })
  },
)
