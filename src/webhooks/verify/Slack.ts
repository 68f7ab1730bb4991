import { hmacKeysFromSecrets } from "./Hmac.ts"
import {
  decodeUtf8,
  type JsonObject,
  objectField,
  parseJsonObject,
  parseJsonObjectText,
  startsWithJsonObject,
  stringField,
} from "./Payload.ts"
import { defaultToleranceSeconds, type SlackOptions } from "./Scheme.ts"
import { checkV0Signature } from "./V0Signature.ts"
import {
  emptyDelivery,
  fromSyncCheck,
  makeWebhookVerifier,
  type VerifiedDelivery,
} from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const headers = { signature: "x-slack-signature", timestamp: "x-slack-request-timestamp" }
const sslCheckReply = { status: 200, contentType: "text/plain; charset=utf-8", body: "" }

/**
 * Slack request signing, version 0: `v0=` and the hex HMAC-SHA256 of
 * `v0:{timestamp}:{body}` with the app's signing secret.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export const SlackVerifier = makeWebhookVerifier<SlackOptions>("slack", (config) => {
  const keys = hmacKeysFromSecrets("sha256", config.secrets)
  const toleranceSeconds = config.options.toleranceSeconds ?? defaultToleranceSeconds

  return fromSyncCheck((request) => {
    const checked = checkV0Signature(request, keys, headers, toleranceSeconds)
    if (checked instanceof WebhookRejected) return checked
    const timestamp = checked.timestamp

    return readSlackBody(request.body, timestamp.seconds)
  })
})

/**
 * Events API deliveries are JSON. Slash commands and interactivity are
 * form-encoded, the latter with a JSON `payload` field.
 */
const readSlackBody = (
  body: Uint8Array,
  timestampSeconds: number,
): VerifiedDelivery | WebhookRejected => {
  if (startsWithJsonObject(body)) {
    const event = parseJsonObject(body)
    if (event === undefined) return WebhookRejected.make("malformed_body")
    return readEventsApi(event, timestampSeconds)
  }

  const form = new URLSearchParams(decodeUtf8(body))
  if (form.get("ssl_check") === "1") {
    // Slack's periodic certificate check of a slash command URL expects a 200.
    return { ...emptyDelivery, handshake: sslCheckReply, timestampSeconds }
  }

  const payloadText = form.get("payload")
  if (payloadText === null) {
    // A slash command has no event type and is not retried, but its trigger
    // id is unique per invocation, so deduplicating on it rejects a replay.
    return {
      ...emptyDelivery,
      deliveryId: form.get("trigger_id") ?? undefined,
      routingKey: form.get("team_id") ?? undefined,
      timestampSeconds,
    }
  }

  const payload = parseJsonObjectText(payloadText)
  if (payload === undefined) return WebhookRejected.make("malformed_body")
  return {
    ...emptyDelivery,
    deliveryId: stringField(payload, "trigger_id"),
    routingKey: stringField(payload, "team_id") ?? stringField(objectField(payload, "team"), "id"),
    eventType: stringField(payload, "type"),
    timestampSeconds,
  }
}

const readEventsApi = (
  event: JsonObject,
  timestampSeconds: number,
): VerifiedDelivery | WebhookRejected => {
  const type = stringField(event, "type")
  const routingKey = stringField(event, "team_id") ?? stringField(objectField(event, "team"), "id")

  if (type === "url_verification") {
    const challenge = stringField(event, "challenge")
    if (challenge === undefined) return WebhookRejected.make("malformed_body")
    return {
      ...emptyDelivery,
      handshake: { status: 200, contentType: "text/plain; charset=utf-8", body: challenge },
      routingKey,
      eventType: type,
      timestampSeconds,
    }
  }

  // `event_callback` wraps the event whose type a worker routes on.
  const innerType =
    type === "event_callback" ? stringField(objectField(event, "event"), "type") : undefined
  return {
    ...emptyDelivery,
    deliveryId: stringField(event, "event_id"),
    routingKey,
    eventType: innerType ?? type,
    timestampSeconds,
  }
}
