import { type Template, webhookDefaults } from "../Template.ts"

/** Stripe events. In Connect events, `account` names the connected account. */
export const stripe: Template = {
  key: "stripe",
  displayName: "Stripe",
  oauth: undefined,
  webhook: {
    ...webhookDefaults("stripe"),
    routingKey: { in: "body", name: "account" },
    eventId: { in: "body", name: "id" },
    toleranceSeconds: 300,
  },
}

/** Any sender that follows the Standard Webhooks specification. */
export const standardWebhooks: Template = {
  key: "standard-webhooks",
  displayName: "Standard Webhooks",
  oauth: undefined,
  webhook: {
    ...webhookDefaults("standard-webhooks"),
    eventId: { in: "header", name: "webhook-id" },
    toleranceSeconds: 300,
  },
}

/** Google Cloud Pub/Sub push subscriptions authenticated by an OIDC token. */
export const googlePubsub: Template = {
  key: "google-pubsub",
  displayName: "Google Cloud Pub/Sub",
  oauth: undefined,
  webhook: {
    ...webhookDefaults("google-pubsub"),
    routingKey: { in: "body", name: "subscription" },
    eventId: { in: "body", name: "message.messageId" },
    // Pub/Sub messages are at most 10 MB, and push bodies carry them in base64.
    maxBodyBytes: 16 * 1024 * 1024,
  },
}

/**
 * A sender that signs the raw body with an HMAC. The signature header,
 * algorithm, encoding and prefix are set in the provider's webhook quirks.
 */
export const genericHmac: Template = {
  key: "generic-hmac",
  displayName: "Generic HMAC",
  oauth: undefined,
  webhook: {
    ...webhookDefaults("generic-hmac"),
    signature: { header: "x-signature", algorithm: "sha256", encoding: "hex", prefix: "" },
  },
}
