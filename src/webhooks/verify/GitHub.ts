import { findMatchingKey, hmacKeysFromSecrets } from "./Hmac.ts"
import {
  decodeUtf8,
  idField,
  type JsonObject,
  objectField,
  parseJsonObject,
  parseJsonObjectText,
  startsWithJsonObject,
} from "./Payload.ts"
import { optionalHeader, requireHeader } from "./RequestHeaders.ts"
import type { GitHubOptions } from "./Scheme.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { emptyDelivery, fromSyncCheck, makeWebhookVerifier } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const signatureHeader = "x-hub-signature-256"
const signaturePrefix = "sha256="

/**
 * GitHub: `sha256=` and the hex HMAC-SHA256 of the body. The legacy SHA-1
 * `X-Hub-Signature` header is not accepted.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
export const GitHubVerifier = makeWebhookVerifier<GitHubOptions>("github", (config) => {
  const keys = hmacKeysFromSecrets("sha256", config.secrets)

  return fromSyncCheck((request) => {
    const signature = requireHeader(request, signatureHeader)
    if (signature instanceof WebhookRejected) return signature
    if (!signature.startsWith(signaturePrefix)) {
      return WebhookRejected.make("malformed_header", signatureHeader)
    }

    const candidate = decodeSignature(
      signature.slice(signaturePrefix.length),
      "hex",
      keys.digestLength,
    )
    if (findMatchingKey(keys, [request.body], candidate === undefined ? [] : [candidate]) < 0) {
      return WebhookRejected.make("signature_mismatch", signatureHeader)
    }

    // The id and event type are headers, so a body that is not JSON still
    // yields a usable delivery, only without a routing key.
    const payload = readPayload(request.body)
    return {
      ...emptyDelivery,
      deliveryId: optionalHeader(request, "x-github-delivery"),
      routingKey: idField(objectField(payload, "installation"), "id"),
      eventType: optionalHeader(request, "x-github-event"),
    }
  })
})

/** A hook set to `application/x-www-form-urlencoded` sends the JSON in `payload`. */
const readPayload = (body: Uint8Array): JsonObject | undefined => {
  if (startsWithJsonObject(body)) return parseJsonObject(body)
  const payload = new URLSearchParams(decodeUtf8(body)).get("payload")
  return payload === null ? undefined : parseJsonObjectText(payload)
}
