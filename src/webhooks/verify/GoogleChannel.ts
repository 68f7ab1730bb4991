import { createHash, timingSafeEqual } from "node:crypto"
import { Effect, Redacted } from "effect"
import { requireHeader } from "./RequestHeaders.ts"
import type { GoogleChannel, GoogleChannelLookup, GoogleOptions } from "./Scheme.ts"
import { makeWebhookVerifier, type VerifiedDelivery, type WebhookRequest } from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

const channelIdHeader = "x-goog-channel-id"
const tokenHeader = "x-goog-channel-token"
const resourceIdHeader = "x-goog-resource-id"
const resourceStateHeader = "x-goog-resource-state"
const messageNumberHeader = "x-goog-message-number"

const messageNumberPattern = /^[0-9]{1,20}$/

// Comparing SHA-256 digests keeps the comparison constant-time without
// revealing the token's length through an early length check.
const tokenDigest = (token: string): Buffer => createHash("sha256").update(token).digest()

/** Builds a lookup over a fixed list of channels. */
export const googleChannelLookup = (
  channels: ReadonlyArray<GoogleChannel>,
): GoogleChannelLookup => {
  const byId = new Map(channels.map((channel) => [channel.id, channel]))
  return (channelId) => Effect.succeed(byId.get(channelId))
}

interface ChannelHeaders {
  readonly channelId: string
  readonly token: string
  readonly state: string
  readonly messageNumber: string
}

const readChannelHeaders = (request: WebhookRequest): ChannelHeaders | WebhookRejected => {
  const channelId = requireHeader(request, channelIdHeader)
  if (channelId instanceof WebhookRejected) return channelId
  const token = requireHeader(request, tokenHeader)
  if (token instanceof WebhookRejected) return token
  const state = requireHeader(request, resourceStateHeader)
  if (state instanceof WebhookRejected) return state
  const messageNumber = requireHeader(request, messageNumberHeader)
  if (messageNumber instanceof WebhookRejected) return messageNumber
  if (!messageNumberPattern.test(messageNumber)) {
    return WebhookRejected.make("malformed_header", messageNumberHeader)
  }
  return { channelId, token, state, messageNumber }
}

const authenticate = (
  request: WebhookRequest,
  headers: ChannelHeaders,
  channel: GoogleChannel | undefined,
): VerifiedDelivery | WebhookRejected => {
  if (channel === undefined) return WebhookRejected.make("unknown_channel", channelIdHeader)

  const expected = tokenDigest(Redacted.value(channel.token))
  if (!timingSafeEqual(tokenDigest(headers.token), expected)) {
    return WebhookRejected.make("token_mismatch", tokenHeader)
  }

  if (channel.resourceId !== undefined) {
    const resourceId = requireHeader(request, resourceIdHeader)
    if (resourceId instanceof WebhookRejected) return resourceId
    if (resourceId !== channel.resourceId) {
      return WebhookRejected.make("resource_mismatch", resourceIdHeader)
    }
  }

  return {
    deliveryId: `${headers.channelId}:${headers.messageNumber}`,
    // `sync` only announces a new channel, so acknowledge it and start nothing.
    handshake:
      headers.state === "sync" ? { status: 200, contentType: "text/plain", body: "" } : undefined,
    routingKey: headers.channelId,
    eventType: headers.state,
    timestampSeconds: undefined,
  }
}

/**
 * Google push notification channels (Drive, Calendar, Gmail via watch):
 * no signature, but the per-channel token set at `watch` time is echoed in
 * `X-Goog-Channel-Token`. Message numbers increase per channel, so channel id
 * and message number identify a delivery.
 * https://developers.google.com/workspace/drive/api/guides/push
 */
export const GoogleChannelVerifier = makeWebhookVerifier<GoogleOptions>("google", (config) => {
  const findChannel =
    config.options.findChannel ?? googleChannelLookup(config.options.channels ?? [])

  return (request) => {
    const headers = readChannelHeaders(request)
    if (headers instanceof WebhookRejected) return Effect.fail(headers)

    return Effect.flatMap(findChannel(headers.channelId), (channel) => {
      const outcome = authenticate(request, headers, channel)
      return outcome instanceof WebhookRejected ? Effect.fail(outcome) : Effect.succeed(outcome)
    })
  }
})
