/**
 * Resolves the ingest route's `WebhookSource` from the provider registry and
 * the webhook endpoints. Sources are built once per provider or endpoint
 * snapshot object and cached in weak maps, so a request pays a map lookup
 * and a reload replaces them.
 */
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { Provider, ProviderWebhook } from "../providers/Provider.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { keptHeaderNames } from "./KeptHeaders.ts"
import { GoogleChannelVerifier } from "./verify/GoogleChannel.ts"
import type { GoogleChannel, WebhookSchemeConfig } from "./verify/Scheme.ts"
import { validateSchemeConfig } from "./verify/SchemeConfig.ts"
import { prepareWebhookVerifier } from "./verify/WebhookVerifiers.ts"
import { type WebhookEndpoint, WebhookEndpoints } from "./WebhookEndpoints.ts"
import { type SourceMissing, type WebhookSource, WebhookSources } from "./WebhookSource.ts"

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const channelOf = (endpoint: WebhookEndpoint): GoogleChannel | undefined => {
  const token = endpoint.secrets[0]
  if (token === undefined) return undefined
  const { channelId, resourceId } = endpoint.options
  return {
    id: typeof channelId === "string" ? channelId : endpoint.id,
    token,
    resourceId: typeof resourceId === "string" ? resourceId : undefined,
  }
}

/**
 * The endpoint's configuration: its secrets in place of the provider's and
 * its options over the provider's. A Google endpoint is one push channel.
 */
export const endpointScheme = (
  webhook: ProviderWebhook,
  endpoint: WebhookEndpoint,
): WebhookSchemeConfig | undefined => {
  const base = webhook.scheme
  if (base.scheme === "google") {
    const channel = channelOf(endpoint)
    if (channel === undefined) return undefined
    return { scheme: "google", secrets: [], options: { channels: [channel] } }
  }
  const secrets = endpoint.secrets.length > 0 ? endpoint.secrets : base.secrets
  const options = { ...base.options, ...endpoint.options }
  const validated = Effect.runSync(
    Effect.option(validateSchemeConfig(base.scheme, options, secrets)),
  )
  return Option.getOrUndefined(validated)
}

export const WebhookSourcesLive = Layer.effect(
  WebhookSources,
  Effect.gen(function* () {
    const registry = yield* ProviderRegistry
    const endpoints = yield* WebhookEndpoints
    const settings = yield* AppConfig

    const providerSources = new WeakMap<Provider, WebhookSource | SourceMissing>()
    const endpointSources = new WeakMap<
      WebhookEndpoint,
      WeakMap<Provider, WebhookSource | SourceMissing>
    >()

    const sourceOf = (
      provider: Provider,
      webhook: ProviderWebhook,
      endpoint: WebhookEndpoint | undefined,
      scheme: WebhookSchemeConfig,
      verify: WebhookSource["verify"],
    ): WebhookSource => ({
      provider: provider.key,
      endpointId: endpoint?.id,
      scheme: scheme.scheme,
      verify,
      // WEBHOOK_MAX_BODY caps every provider, and Bun's server limit is set from it.
      maxBodyBytes: Math.min(webhook.settings.maxBodyBytes, settings.webhookMaxBodyBytes),
      keptHeaders: keptHeaderNames(scheme),
    })

    /**
     * Builds the source of the provider-wide route. A Google provider looks
     * the channel up among its endpoints by the channel id header, at request
     * time, in the snapshot.
     */
    const buildProviderSource = (provider: Provider): WebhookSource | SourceMissing => {
      const webhook = provider.webhook
      if (webhook === undefined) return "webhooks_not_configured"
      if (webhook.verifier !== undefined) {
        return sourceOf(provider, webhook, undefined, webhook.scheme, webhook.verifier)
      }
      if (webhook.scheme.scheme !== "google") return "webhooks_not_configured"
      const findChannel = (channelId: string) =>
        Effect.sync(() => {
          for (const endpoint of endpoints.ofProvider(provider.key)) {
            const channel = channelOf(endpoint)
            if (channel?.id === channelId) return channel
          }
          return undefined
        })
      const verify = GoogleChannelVerifier.prepare({ secrets: [], options: { findChannel } })
      return sourceOf(provider, webhook, undefined, webhook.scheme, verify)
    }

    const buildEndpointSource = (
      provider: Provider,
      endpoint: WebhookEndpoint,
    ): WebhookSource | SourceMissing => {
      const webhook = provider.webhook
      if (webhook === undefined) return "webhooks_not_configured"
      const scheme = endpointScheme(webhook, endpoint)
      if (scheme === undefined) return "webhooks_not_configured"
      return sourceOf(provider, webhook, endpoint, scheme, prepareWebhookVerifier(scheme))
    }

    const find = (providerKey: string, endpointId: string | undefined) => {
      const provider = registry.get(providerKey)
      if (Option.isNone(provider)) {
        // A stored provider that cannot be used returns 503, so the sender
        // retries while an operator fixes it, instead of dropping events
        // after a 404.
        return registry.problemOf(providerKey) === undefined
          ? ("unknown_provider" as const)
          : ("provider_invalid" as const)
      }

      if (endpointId === undefined) {
        let source = providerSources.get(provider.value)
        if (source === undefined) {
          source = buildProviderSource(provider.value)
          providerSources.set(provider.value, source)
        }
        return source
      }

      if (!uuidPattern.test(endpointId)) return "unknown_endpoint" as const
      const endpoint = endpoints.get(endpointId)
      if (endpoint === undefined || endpoint.providerKey !== providerKey) {
        return "unknown_endpoint" as const
      }
      let byProvider = endpointSources.get(endpoint)
      if (byProvider === undefined) {
        byProvider = new WeakMap()
        endpointSources.set(endpoint, byProvider)
      }
      let source = byProvider.get(provider.value)
      if (source === undefined) {
        source = buildEndpointSource(provider.value, endpoint)
        byProvider.set(provider.value, source)
      }
      return source
    }

    return WebhookSources.of({ find })
  }),
)
