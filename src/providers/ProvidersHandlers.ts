import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../auth/Principal.ts"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError, STATUS_BY_CODE } from "../http/ErrorMapping.ts"
import type { Provider } from "./Provider.ts"
import { ProviderRegistry } from "./ProviderRegistry.ts"

/** Renders a provider for the API; secrets appear only as `has_*` flags. */
export const providerView = (provider: Provider) => {
  const { config, source, webhook } = provider
  const oauth = config.oauth
  return {
    key: provider.key,
    template: config.template,
    display_name: config.displayName,
    client_id: oauth?.clientId ?? null,
    has_client_secret: source.clientSecret !== undefined,
    scopes: [...(oauth?.scopes ?? [])],
    authorization_url: oauth?.authorizationUrl ?? null,
    token_url: oauth?.tokenUrl ?? null,
    revocation_url: oauth?.revocation?.url ?? null,
    destination_url: config.destinationUrl ?? null,
    quirks: { ...source.fields.quirks },
    webhook:
      webhook === undefined
        ? null
        : {
            scheme: webhook.settings.scheme,
            has_secret: source.webhookSecrets.length > 0,
            has_previous_secret: source.webhookSecrets.length > 1,
            options: { ...(webhook.scheme.options as Record<string, unknown>) },
          },
    created_at: source.createdAt.toISOString(),
    updated_at: source.updatedAt.toISOString(),
  }
}

const requireAdmin = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  if (principal.kind !== "admin") {
    return yield* Effect.fail(
      apiError(403, "admin_key_required", "Managing providers requires the admin key."),
    )
  }
})

const notFound = (key: string) =>
  Effect.fail(apiError(404, "provider_not_found", `No provider has key ${key}.`))

export const ProvidersHandlers = HttpApiBuilder.group(Api, "providers", (handlers) =>
  Effect.gen(function* () {
    const registry = yield* ProviderRegistry
    return handlers
      .handle("put", ({ params, payload }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const { provider } = yield* orApiError(
            registry.put({
              key: params.key,
              template: payload.template,
              clientId: payload.client_id,
              clientSecret: payload.client_secret,
              webhookSecret: payload.webhook_secret,
              webhookSecretPrevious: payload.webhook_secret_previous,
              keepPreviousWebhookSecret: payload.keep_previous_webhook_secret === true,
              destinationUrl: payload.destination_url,
              fields: {
                scopes: payload.scopes,
                authorization_url: payload.authorization_url,
                token_url: payload.token_url,
                revocation_url: payload.revocation_url,
                quirks: payload.quirks,
                webhook: payload.webhook,
              },
            }),
          )
          return providerView(provider)
        }),
      )
      .handle("list", () => Effect.succeed({ data: registry.all().map(providerView) }))
      .handle("get", ({ params }) =>
        Option.match(registry.get(params.key), {
          onNone: () => {
            const problem = registry.problemOf(params.key)
            return problem === undefined
              ? notFound(params.key)
              : Effect.fail(
                  apiError(
                    STATUS_BY_CODE.provider_invalid ?? 503,
                    "provider_invalid",
                    `Provider ${params.key} is stored but cannot be used: ${problem} ` +
                      "Fix the setting it names, or PUT the provider again.",
                  ),
                )
          },
          onSome: (provider) => Effect.succeed(providerView(provider)),
        }),
      )
      .handle("remove", ({ params }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          yield* orApiError(registry.remove(params.key))
        }),
      )
  }),
)
