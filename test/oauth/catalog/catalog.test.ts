import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import {
  findTemplate,
  listTemplates,
  type ProviderInput,
  resolveOAuthClient,
  resolveProvider,
  webhookSchemes,
} from "../../../src/oauth/catalog/index.ts"

const OAUTH_TEMPLATES = [
  "oauth2",
  "slack",
  "slack-user",
  "google",
  "github",
  "microsoft",
  "salesforce",
  "hubspot",
  "notion",
  "atlassian",
  "zoom",
  "shopify",
  "linear",
  "dropbox",
]
const WEBHOOK_ONLY_TEMPLATES = ["stripe", "standard-webhooks", "google-pubsub", "generic-hmac"]

/** Input that satisfies every OAuth template: the generic one needs its URLs. */
const inputFor = (template: string): ProviderInput =>
  findTemplate(template)?.oauth === undefined
    ? { template, webhook_secret: Redacted.make("whsec-test") }
    : {
        template,
        client_id: "client-123",
        client_secret: Redacted.make("secret-abc"),
        ...(template === "oauth2"
          ? {
              authorization_url: "https://auth.example.com/authorize",
              token_url: "https://auth.example.com/token",
            }
          : {}),
      }

describe("catalog", () => {
  it("lists every template once", () => {
    const keys = listTemplates().map((template) => template.key)
    expect(keys.toSorted()).toEqual([...OAUTH_TEMPLATES, ...WEBHOOK_ONLY_TEMPLATES].toSorted())
  })

  it("finds a template by key", () => {
    expect(findTemplate("google")?.displayName).toBe("Google")
    expect(findTemplate("no-such-provider")).toBeUndefined()
  })

  it("gives webhook-only templates no OAuth settings", () => {
    for (const key of WEBHOOK_ONLY_TEMPLATES) {
      expect(findTemplate(key)?.oauth, key).toBeUndefined()
      expect(findTemplate(key)?.webhook, key).toBeDefined()
    }
  })

  it("uses https for every default endpoint", () => {
    for (const template of listTemplates()) {
      const oauth = template.oauth
      if (oauth === undefined) continue
      const urls = [oauth.authorizationUrl, oauth.tokenUrl, oauth.revocation?.url]
      for (const url of urls) {
        if (url !== undefined) expect(url, template.key).toMatch(/^https:\/\//)
      }
    }
  })

  it("uses only known webhook schemes, and covers each", () => {
    const used = new Set(listTemplates().flatMap((template) => template.webhook?.scheme ?? []))
    expect([...used].toSorted()).toEqual([...webhookSchemes].toSorted())
  })

  it.effect("resolves every template", () =>
    Effect.gen(function* () {
      for (const template of listTemplates()) {
        const config = yield* resolveProvider(inputFor(template.key))
        expect(config.template).toBe(template.key)
        if (config.oauth === undefined) continue

        const client = yield* resolveOAuthClient(config, { shop: "demo-shop.myshopify.com" })
        const urls = [client.authorizationUrl, client.tokenUrl, client.revocation?.url ?? ""]
        for (const url of urls) expect(url, template.key).not.toMatch(/[{}]/)
      }
    }),
  )

  it.effect("fills the microsoft tenant with common by default", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider(inputFor("microsoft"))
      const client = yield* resolveOAuthClient(config)
      expect(client.authorizationUrl).toBe(
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      )
      expect(client.tokenUrl).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/token")
      expect(client.requiredScopes).toContain("offline_access")
    }),
  )

  it.effect("fills the microsoft tenant from metadata", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider(inputFor("microsoft"))
      const client = yield* resolveOAuthClient(config, { tenant: "contoso.onmicrosoft.com" })
      expect(client.tokenUrl).toBe(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
      )
      const error = yield* Effect.flip(resolveOAuthClient(config, { tenant: "../evil" }))
      expect(error.field).toBe("metadata.tenant")
    }),
  )

  it.effect("fills the github client id into the revocation URL", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider(inputFor("github"))
      const client = yield* resolveOAuthClient(config)
      expect(client.revocation?.url).toBe("https://api.github.com/applications/client-123/grant")
    }),
  )
})
