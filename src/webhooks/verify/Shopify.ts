import { findMatchingKey, hmacKeysFromSecrets } from "./Hmac.ts"
import { optionalHeader, requireHeader } from "./RequestHeaders.ts"
import type { ShopifyOptions } from "./Scheme.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { emptyDelivery, fromSyncCheck, makeWebhookVerifier } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const signatureHeader = "x-shopify-hmac-sha256"

/**
 * Shopify: the base64 HMAC-SHA256 of the body with the app's client secret.
 * Everything needed comes from headers, so the body is never parsed.
 */
export const ShopifyVerifier = makeWebhookVerifier<ShopifyOptions>("shopify", (config) => {
  const keys = hmacKeysFromSecrets("sha256", config.secrets)

  return fromSyncCheck((request) => {
    const signature = requireHeader(request, signatureHeader)
    if (signature instanceof WebhookRejected) return signature

    const candidate = decodeSignature(signature, "base64", keys.digestLength)
    if (findMatchingKey(keys, [request.body], candidate === undefined ? [] : [candidate]) < 0) {
      return WebhookRejected.make("signature_mismatch", signatureHeader)
    }

    return {
      ...emptyDelivery,
      deliveryId: optionalHeader(request, "x-shopify-webhook-id"),
      routingKey: optionalHeader(request, "x-shopify-shop-domain"),
      eventType: optionalHeader(request, "x-shopify-topic"),
    }
  })
})
