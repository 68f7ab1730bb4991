/**
 * A configured provider as the service runs it, and how one is built from
 * its stored row: the catalog template merged with the operator's fields
 * (`resolveProvider`), plus the webhook scheme configuration that the
 * verifiers take (`validateSchemeConfig`).
 */
import { Effect, type Redacted } from "effect"
import {
  type ProviderConfig,
  type ProviderConfigError,
  resolveProvider,
  type WebhookConfig,
} from "../oauth/catalog/index.ts"
import {
  type InvalidWebhookConfig,
  type PreparedVerifier,
  prepareWebhookVerifier,
  validateSchemeConfig,
  type WebhookSchemeConfig,
} from "../webhooks/verify/index.ts"

/**
 * The non-secret fields of a provider as the operator gave them, stored in
 * `providers.config`. The provider is resolved again from them on every
 * load, so a catalog update reaches stored providers.
 */
export interface StoredProviderFields {
  readonly scopes?: string | ReadonlyArray<string> | undefined
  readonly authorization_url?: string | undefined
  readonly token_url?: string | undefined
  readonly revocation_url?: string | undefined
  readonly quirks?: Readonly<Record<string, unknown>> | undefined
  /** Options of the webhook scheme, such as `audience` and `jwks` for `google-pubsub`. */
  readonly webhook?: Readonly<Record<string, unknown>> | undefined
}

/** A provider's configuration with its secrets decrypted, before it is resolved. */
export interface ProviderSource {
  readonly key: string
  readonly template: string
  readonly clientId: string | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
  /** The current webhook secret first, then the previous one during a rotation. */
  readonly webhookSecrets: ReadonlyArray<Redacted.Redacted<string>>
  readonly destinationUrl: string | undefined
  readonly fields: StoredProviderFields
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** Webhook verification of a provider, ready for the ingest route. */
export interface ProviderWebhook {
  /** Catalog settings: scheme, routing key and event id fields, body limit, tolerance. */
  readonly settings: WebhookConfig
  /** Validated input of the scheme's verifier, with one secret or two while rotating. */
  readonly scheme: WebhookSchemeConfig
  /**
   * The verifier with its keys derived once per load. Undefined for the
   * `google` scheme, whose channel lookup the webhook module supplies.
   */
  readonly verifier: PreparedVerifier | undefined
}

export interface Provider {
  readonly key: string
  readonly config: ProviderConfig
  /** Undefined when the provider receives no webhooks. */
  readonly webhook: ProviderWebhook | undefined
  readonly source: ProviderSource
}

/** Schemes that authenticate deliveries without a shared secret. */
const SECRETLESS_SCHEMES = new Set(["google", "google-pubsub"])

/**
 * Options of the verifier derived from the catalog settings, under the
 * operator's explicit `webhook` options.
 */
const schemeOptions = (
  settings: WebhookConfig,
  explicit: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> => {
  const derived: Record<string, unknown> = {}
  const signsTimestamp = ["slack", "stripe", "standard-webhooks", "zoom"]
  if (signsTimestamp.includes(settings.scheme) && settings.toleranceSeconds !== undefined) {
    derived.toleranceSeconds = settings.toleranceSeconds
  }
  if (settings.scheme === "generic-hmac" && settings.signature !== undefined) {
    derived.signatureHeader = settings.signature.header
    derived.algorithm = settings.signature.algorithm
    derived.encoding = settings.signature.encoding
    if (settings.signature.prefix !== "") derived.prefix = settings.signature.prefix
  }
  return { ...derived, ...explicit }
}

/**
 * Builds the webhook part of a provider. A provider receives webhooks when
 * its template has a scheme and the operator gave a secret, or, for schemes
 * without a secret, gave the scheme's options.
 */
const buildWebhook = (
  settings: WebhookConfig | undefined,
  source: ProviderSource,
): Effect.Effect<ProviderWebhook | undefined, InvalidWebhookConfig> =>
  Effect.gen(function* () {
    if (settings === undefined) return undefined
    const secretless = SECRETLESS_SCHEMES.has(settings.scheme)
    const enabled = secretless
      ? source.fields.webhook !== undefined
      : source.webhookSecrets.length > 0
    if (!enabled) return undefined

    const options = schemeOptions(settings, source.fields.webhook)
    const secrets = secretless ? [] : source.webhookSecrets
    if (settings.scheme === "google" && options.channels === undefined) {
      // Channels are created per integration, so the webhook module looks
      // them up by id; validation only needs to know that a lookup exists.
      const check = { ...options, findChannel: () => Effect.succeed(undefined) }
      yield* validateSchemeConfig(settings.scheme, check, secrets)
      const scheme = { scheme: "google", secrets, options } as unknown as WebhookSchemeConfig
      return { settings, scheme, verifier: undefined }
    }

    const scheme = yield* validateSchemeConfig(settings.scheme, options, secrets)
    return { settings, scheme, verifier: prepareWebhookVerifier(scheme) }
  })

/** Resolves a provider from its source; fails on the first invalid field. */
export const buildProvider = (
  source: ProviderSource,
  options: { readonly allowHttpLoopback: boolean },
): Effect.Effect<Provider, ProviderConfigError | InvalidWebhookConfig> =>
  Effect.gen(function* () {
    const { fields } = source
    const config = yield* resolveProvider(
      {
        template: source.template,
        client_id: source.clientId,
        client_secret: source.clientSecret,
        scopes: fields.scopes,
        authorization_url: fields.authorization_url,
        token_url: fields.token_url,
        revocation_url: fields.revocation_url,
        webhook_secret: source.webhookSecrets[0],
        destination_url: source.destinationUrl,
        quirks: fields.quirks,
      },
      { allowHttpLoopback: options.allowHttpLoopback },
    )
    const webhook = yield* buildWebhook(config.webhook, source)
    return { key: source.key, config, webhook, source }
  })
