import { computeHmac, hmacKeysFromSecrets } from "./Hmac.ts"
import { objectField, parseJsonObject, stringField } from "./Payload.ts"
import { defaultToleranceSeconds, type ZoomOptions } from "./Scheme.ts"
import { checkV0Signature } from "./V0Signature.ts"
import { emptyDelivery, fromSyncCheck, makeWebhookVerifier } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const headers = { signature: "x-zm-signature", timestamp: "x-zm-request-timestamp" }

/**
 * Zoom: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the
 * app's secret token. The reply to the `endpoint.url_validation` handshake
 * carries `encryptedToken`, the hex HMAC-SHA256 of `plainToken` under the
 * secret that verified the request.
 * https://developers.zoom.us/docs/api/webhooks
 */
export const ZoomVerifier = makeWebhookVerifier<ZoomOptions>("zoom", (config) => {
  const keys = hmacKeysFromSecrets("sha256", config.secrets)
  const toleranceSeconds = config.options.toleranceSeconds ?? defaultToleranceSeconds

  return fromSyncCheck((request) => {
    const checked = checkV0Signature(request, keys, headers, toleranceSeconds)
    if (checked instanceof WebhookRejected) return checked
    const { timestamp, keyIndex } = checked

    const event = parseJsonObject(request.body)
    if (event === undefined) return WebhookRejected.make("malformed_body")
    const eventType = stringField(event, "event")
    const payload = objectField(event, "payload")
    // NOTE: Zoom sends no documented delivery id, so these deliveries are
    // not deduplicated.
    const delivery = {
      ...emptyDelivery,
      routingKey: stringField(payload, "account_id"),
      eventType,
      timestampSeconds: timestamp.seconds,
    }
    if (eventType !== "endpoint.url_validation") return delivery

    const plainToken = stringField(payload, "plainToken")
    if (plainToken === undefined) return WebhookRejected.make("malformed_body")
    const encryptedToken = computeHmac("sha256", keys.keys[keyIndex]!, [plainToken])
    return {
      ...delivery,
      handshake: {
        status: 200,
        contentType: "application/json",
        body: JSON.stringify({ plainToken, encryptedToken: encryptedToken.toString("hex") }),
      },
    }
  })
})
