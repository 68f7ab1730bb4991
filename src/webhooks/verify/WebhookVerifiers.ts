import { GenericHmacVerifier } from "./GenericHmac.ts"
import { GitHubVerifier } from "./GitHub.ts"
import { GoogleChannelVerifier } from "./GoogleChannel.ts"
import { GooglePubSubVerifier } from "./GooglePubSub.ts"
import type { WebhookSchemeConfig, WebhookSchemeName, WebhookSchemeOptions } from "./Scheme.ts"
import { ShopifyVerifier } from "./Shopify.ts"
import { SlackVerifier } from "./Slack.ts"
import { StandardWebhooksVerifier } from "./StandardWebhooks.ts"
import { StripeVerifier } from "./Stripe.ts"
import type { PreparedVerifier, WebhookVerifier } from "./Verifier.ts"
import { ZoomVerifier } from "./Zoom.ts"

export type WebhookVerifierByScheme = {
  readonly [N in WebhookSchemeName]: WebhookVerifier<WebhookSchemeOptions[N]>
}

export const webhookVerifiers: WebhookVerifierByScheme = {
  slack: SlackVerifier,
  github: GitHubVerifier,
  stripe: StripeVerifier,
  "standard-webhooks": StandardWebhooksVerifier,
  shopify: ShopifyVerifier,
  zoom: ZoomVerifier,
  google: GoogleChannelVerifier,
  "google-pubsub": GooglePubSubVerifier,
  "generic-hmac": GenericHmacVerifier,
}

/**
 * Prepares the verifier of a validated configuration. Call it once per
 * provider when the configuration loads, and reuse the result per request.
 */
export const prepareWebhookVerifier = <N extends WebhookSchemeName>(
  config: WebhookSchemeConfig<N>,
): PreparedVerifier => {
  const verifier: WebhookVerifier<WebhookSchemeOptions[N]> = webhookVerifiers[config.scheme]
  return verifier.prepare(config)
}
