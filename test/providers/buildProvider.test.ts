/** Building a provider from its stored source, as the registry does on every load. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { buildProvider, type ProviderSource } from "../../src/providers/Provider.ts"

const source = (overrides: Partial<ProviderSource>): ProviderSource => ({
  key: "provider-1",
  template: "oauth2",
  clientId: "client-id",
  clientSecret: Redacted.make("client-secret"),
  webhookSecrets: [],
  destinationUrl: undefined,
  fields: {
    authorization_url: "http://127.0.0.1:8080/authorize",
    token_url: "http://127.0.0.1:8080/token",
  },
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...overrides,
})

describe("buildProvider", () => {
  it.effect("accepts http loopback URLs only when allowed", () =>
    Effect.gen(function* () {
      const allowed = yield* buildProvider(source({}), { allowHttpLoopback: true })
      expect(allowed.config.oauth?.tokenUrl).toBe("http://127.0.0.1:8080/token")

      const rejected = yield* Effect.flip(buildProvider(source({}), { allowHttpLoopback: false }))
      expect(rejected._tag).toBe("ProviderConfigError")
      expect(rejected.message).toContain("authorization_url")
    }),
  )

  it.effect("prepares the webhook verifier with both secrets", () =>
    Effect.gen(function* () {
      const provider = yield* buildProvider(
        source({
          template: "slack",
          fields: {},
          webhookSecrets: [Redacted.make("new-secret"), Redacted.make("old-secret")],
        }),
        { allowHttpLoopback: false },
      )
      expect(provider.webhook?.scheme.scheme).toBe("slack")
      expect(provider.webhook?.scheme.secrets).toHaveLength(2)
      expect(provider.webhook?.scheme.options).toEqual({ toleranceSeconds: 300 })
      expect(provider.webhook?.settings.routingKey).toEqual({ in: "body", name: "team_id" })
      expect(provider.webhook?.verifier).toBeTypeOf("function")
    }),
  )

  it.effect("leaves webhooks off without a secret", () =>
    Effect.gen(function* () {
      const provider = yield* buildProvider(source({ template: "slack", fields: {} }), {
        allowHttpLoopback: false,
      })
      expect(provider.webhook).toBeUndefined()
      expect(provider.config.oauth?.clientAuthentication).toBe("client_secret_post")
    }),
  )

  it.effect("maps generic HMAC signature settings to verifier options", () =>
    Effect.gen(function* () {
      const provider = yield* buildProvider(
        source({
          template: "linear",
          fields: {},
          webhookSecrets: [Redacted.make("linear-secret")],
        }),
        { allowHttpLoopback: false },
      )
      expect(provider.webhook?.scheme.options).toEqual({
        signatureHeader: "linear-signature",
        algorithm: "sha256",
        encoding: "hex",
      })
    }),
  )

  it.effect("rejects an invalid standard webhooks secret", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        buildProvider(
          source({
            template: "standard-webhooks",
            clientId: undefined,
            clientSecret: undefined,
            fields: {},
            webhookSecrets: [Redacted.make("plain-secret")],
          }),
          { allowHttpLoopback: false },
        ),
      )
      expect(error._tag).toBe("InvalidWebhookConfig")
      expect(error.message).not.toContain("plain-secret")
    }),
  )
})
