import type { Effect, Redacted } from "effect"
import type { JSONWebKeySet } from "jose"
import type { HmacAlgorithm } from "./Hmac.ts"
import type { SignatureEncoding } from "./SignatureEncoding.ts"

export const webhookSchemeNames = [
  "slack",
  "github",
  "stripe",
  "standard-webhooks",
  "shopify",
  "zoom",
  "google",
  "google-pubsub",
  "generic-hmac",
] as const

/** Name of the scheme a provider uses to sign or authenticate its deliveries. */
export type WebhookSchemeName = (typeof webhookSchemeNames)[number]

export const isWebhookSchemeName = (name: string): name is WebhookSchemeName =>
  (webhookSchemeNames as ReadonlyArray<string>).includes(name)

/** Default tolerance between a signed timestamp and the receive time. */
export const defaultToleranceSeconds = 300

/** Default leeway for the time claims of a Pub/Sub push token. */
export const defaultPubSubClockToleranceSeconds = 30

/** Google signs Pub/Sub push tokens with RS256. */
export const defaultPubSubAlgorithms: ReadonlyArray<string> = ["RS256"]

/** Options of schemes that sign a timestamp. */
export interface TimestampOptions {
  /** Maximum difference between the signed timestamp and now, either way (default 300 s). */
  readonly toleranceSeconds?: number
}

export type SlackOptions = TimestampOptions
export type GitHubOptions = {}
export type StripeOptions = TimestampOptions
export type StandardWebhooksOptions = TimestampOptions
export type ShopifyOptions = {}
export type ZoomOptions = TimestampOptions

/** A Google push notification channel created by a `watch` request. */
export interface GoogleChannel {
  readonly id: string
  /** The `token` sent in the `watch` request, echoed in `X-Goog-Channel-Token`. */
  readonly token: Redacted.Redacted<string>
  /** Id of the watched resource. When set, `X-Goog-Resource-ID` must equal it. */
  readonly resourceId?: string | undefined
}

/**
 * Finds a channel by id, or returns `undefined` for an unknown one. A store
 * failure must be a defect and never `undefined`, so the route responds with
 * 5xx and Google retries.
 */
export type GoogleChannelLookup = (channelId: string) => Effect.Effect<GoogleChannel | undefined>

/** Google push channels, given by exactly one of `channels` and `findChannel`. */
export interface GoogleOptions {
  readonly channels?: ReadonlyArray<GoogleChannel>
  readonly findChannel?: GoogleChannelLookup
}

/** Google Pub/Sub push subscriptions that attach an OIDC token. */
export interface GooglePubSubOptions {
  /** The `aud` claim configured on the push subscription. */
  readonly audience: string
  /** The service account the subscription authenticates as. */
  readonly email: string
  /**
   * The key set itself, or the URL to fetch it from: HTTPS, or HTTP on a
   * loopback address. Google's is `https://www.googleapis.com/oauth2/v3/certs`.
   */
  readonly jwks: JSONWebKeySet | string
  /** Leeway for `exp` and `nbf` (default 30 s). */
  readonly clockToleranceSeconds?: number
  /** Accepted JWS algorithms (default `["RS256"]`, which Google uses). */
  readonly algorithms?: ReadonlyArray<string>
}

/** A provider that signs with an HMAC in a header of its choosing. */
export interface GenericHmacOptions {
  readonly signatureHeader: string
  readonly algorithm: HmacAlgorithm
  readonly encoding: SignatureEncoding
  /** Text before each signature, such as `sha256=`. */
  readonly prefix?: string
  /** Separator between several signatures in the header, `" "` or `","`. */
  readonly signatureSeparator?: " " | ","
  /** Header with the signed timestamp in seconds, which enables the tolerance check. */
  readonly timestampHeader?: string
  readonly toleranceSeconds?: number
  /**
   * Signed content with the placeholders `{body}` (exactly once),
   * `{timestamp}` and `{id}`. Default: `{timestamp}.{body}` with a timestamp
   * header, `{body}` without.
   */
  readonly signedContent?: string
  /** Header with the delivery id, which `{id}` reads. */
  readonly idHeader?: string
  readonly eventTypeHeader?: string
  readonly routingKeyHeader?: string
}

export interface WebhookSchemeOptions {
  readonly slack: SlackOptions
  readonly github: GitHubOptions
  readonly stripe: StripeOptions
  readonly "standard-webhooks": StandardWebhooksOptions
  readonly shopify: ShopifyOptions
  readonly zoom: ZoomOptions
  readonly google: GoogleOptions
  readonly "google-pubsub": GooglePubSubOptions
  readonly "generic-hmac": GenericHmacOptions
}

/**
 * A validated scheme configuration. HMAC schemes use one secret, or two
 * while rotating. `google` and `google-pubsub` use none.
 */
export type WebhookSchemeConfig<N extends WebhookSchemeName = WebhookSchemeName> = {
  readonly [K in N]: {
    readonly scheme: K
    readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
    readonly options: WebhookSchemeOptions[K]
  }
}[N]
