import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import {
  type ProviderInput,
  resolveOAuthClient,
  resolveProvider,
} from "../../../src/oauth/catalog/index.ts"

const SECRET = "super-secret-value-77"
const credentials = { client_id: "client-123", client_secret: Redacted.make(SECRET) }
const generic = {
  template: "oauth2",
  ...credentials,
  authorization_url: "https://auth.example.com/authorize",
  token_url: "https://auth.example.com/token",
}

const failure = (input: ProviderInput, options?: { allowHttpLoopback?: boolean }) =>
  Effect.flip(resolveProvider(input, options))

describe("resolveProvider", () => {
  it.effect("overrides template defaults with explicit fields", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({
        template: "google",
        ...credentials,
        scopes: "email profile",
        authorization_url: "https://accounts.example.com/auth?hd=example.com",
        token_url: "https://token.example.com/token",
        revocation_url: "https://token.example.com/revoke",
        destination_url: "https://app.example.com/events",
        quirks: { pkce: false, extraAuthorizationParams: { access_type: "online" } },
      })
      const oauth = config.oauth!
      expect(oauth.scopes).toEqual(["email", "profile"])
      expect(oauth.authorizationUrl).toBe("https://accounts.example.com/auth?hd=example.com")
      expect(oauth.tokenUrl).toBe("https://token.example.com/token")
      expect(oauth.revocation?.url).toBe("https://token.example.com/revoke")
      expect(oauth.pkce).toBe(false)
      expect(oauth.extraAuthorizationParams).toEqual({ access_type: "online" })
      expect(oauth.clientId).toBe("client-123")
      expect(Redacted.value(oauth.clientSecret!)).toBe(SECRET)
      expect(config.destinationUrl).toBe("https://app.example.com/events")
    }),
  )

  it.effect("keeps template defaults when no field is given", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({ template: "google", ...credentials })
      expect(config.oauth?.scopes).toEqual(["openid", "email"])
      expect(config.oauth?.tokenUrl).toBe("https://oauth2.googleapis.com/token")
    }),
  )

  it.effect("splits a scope string on commas, spaces and plus signs", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({ ...generic, scopes: "read,write+admin read" })
      expect(config.oauth?.scopes).toEqual(["read", "write", "admin"])
    }),
  )

  it.effect("rejects an unknown template", () =>
    Effect.gen(function* () {
      const error = yield* failure({ template: "myspace" })
      expect(error.code).toBe("unknown_template")
      expect(error.field).toBe("template")
      expect(error.message).toContain('"myspace"')
    }),
  )

  it.effect("requires URLs for the oauth2 template", () =>
    Effect.gen(function* () {
      const noAuthorization = yield* failure({ ...generic, authorization_url: undefined })
      expect(noAuthorization.code).toBe("invalid_provider_config")
      expect(noAuthorization.field).toBe("authorization_url")
      const noToken = yield* failure({ ...generic, token_url: undefined })
      expect(noToken.field).toBe("token_url")
    }),
  )

  it.effect("rejects an http URL without the loopback flag", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, token_url: "http://127.0.0.1:8080/token" })
      expect(error.field).toBe("token_url")
      expect(error.value).toBe('"http://127.0.0.1:8080/token"')
      expect(error.problem).toContain("ALLOW_HTTP_LOOPBACK_PROVIDERS")
    }),
  )

  it.effect("accepts http to a loopback host with the flag", () =>
    Effect.gen(function* () {
      const loopbackUrls = [
        "http://127.0.0.1:8080/token",
        "http://127.8.9.10/token",
        "http://[::1]:9000/token",
        "http://localhost:3000/token",
      ]
      for (const url of loopbackUrls) {
        const config = yield* resolveProvider(
          { ...generic, token_url: url },
          { allowHttpLoopback: true },
        )
        expect(config.oauth?.tokenUrl).toBe(url)
      }
    }),
  )

  it.effect("rejects http to other hosts even with the flag", () =>
    Effect.gen(function* () {
      const urls = [
        "http://auth.example.com/token",
        "http://localhost.example.com/token",
        "http://127.0.0.1.example.com/token",
        "http://10.0.0.1/token",
      ]
      for (const url of urls) {
        const error = yield* failure({ ...generic, token_url: url }, { allowHttpLoopback: true })
        expect(error.field, url).toBe("token_url")
      }
    }),
  )

  it.effect("rejects other schemes, credentials and fragments in URLs", () =>
    Effect.gen(function* () {
      const cases = [
        ["ftp://auth.example.com/token", "must use https"],
        ["https://user:pw@auth.example.com/token", "must not contain credentials"],
        ["https://auth.example.com/token#frag", "must not contain a fragment"],
        ["/token", "must be an absolute URL"],
      ] as const
      for (const [url, problem] of cases) {
        const error = yield* failure({ ...generic, token_url: url })
        expect(error.problem, url).toBe(problem)
      }
    }),
  )

  it.effect("rejects a placeholder that no URL parameter defines", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, token_url: "https://{region}.example.com/token" })
      expect(error.problem).toContain("{region}")
    }),
  )

  it.effect("requires a client id", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, client_id: undefined })
      expect(error.reason).toBe("missing_field")
      expect(error.field).toBe("client_id")
    }),
  )

  it.effect("requires a client secret unless the client is public", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, client_secret: undefined })
      expect(error.field).toBe("client_secret")
      const config = yield* resolveProvider({
        ...generic,
        client_secret: undefined,
        quirks: { clientAuthentication: "none" },
      })
      expect(config.oauth?.clientSecret).toBeUndefined()
    }),
  )

  it.effect("never shows a secret in an error", () =>
    Effect.gen(function* () {
      const plainSecret = SECRET as unknown as Redacted.Redacted<string>
      const errors = [
        yield* failure({ ...generic, client_secret: plainSecret }),
        yield* failure({ template: "stripe", client_secret: Redacted.make(SECRET) }),
        yield* failure({ template: "microsoft", ...credentials, webhook_secret: plainSecret }),
      ]
      for (const error of errors) {
        expect(error.value).toBeUndefined()
        expect(error.message).not.toContain(SECRET)
        expect(JSON.stringify(error)).not.toContain(SECRET)
      }
    }),
  )

  it.effect("rejects OAuth fields for a webhook-only template", () =>
    Effect.gen(function* () {
      const error = yield* failure({ template: "stripe", client_id: "abc" })
      expect(error.field).toBe("client_id")
      expect(error.problem).toContain("no OAuth settings")
    }),
  )

  it.effect("rejects an unknown quirk", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, quirks: { tokenPaht: "x" } })
      expect(error.field).toBe("quirks.tokenPaht")
    }),
  )

  it.effect("rejects a quirk of the wrong type", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ pkce: "yes" }, "quirks.pkce"],
        [{ scopeSeparator: ";" }, "quirks.scopeSeparator"],
        [{ clientAuthentication: "private_key_jwt" }, "quirks.clientAuthentication"],
        [{ keepAliveRefreshSeconds: -5 }, "quirks.keepAliveRefreshSeconds"],
        [{ requiredScopes: ["has space"] }, "quirks.requiredScopes"],
        [{ errorInSuccessBody: { field: "ok" } }, "quirks.errorInSuccessBody"],
        [{ revocation: { method: "GET" } }, "quirks.revocation.method"],
      ]
      for (const [quirks, field] of cases) {
        const error = yield* failure({ ...generic, revocation_url: "https://a.example/r", quirks })
        expect(error.field).toBe(field)
      }
    }),
  )

  it.effect("rejects a kept field that names a token", () =>
    Effect.gen(function* () {
      const error = yield* failure({ ...generic, quirks: { extraFieldsToKeep: ["id_token"] } })
      expect(error.field).toBe("quirks.extraFieldsToKeep")
    }),
  )

  it.effect("rejects an extra parameter that replaces a protocol parameter", () =>
    Effect.gen(function* () {
      const quirks = { extraAuthorizationParams: { redirect_uri: "https://evil.example" } }
      const error = yield* failure({ ...generic, quirks })
      expect(error.field).toBe("quirks.extraAuthorizationParams")
    }),
  )

  it.effect("authenticates revocation like the token request", () =>
    Effect.gen(function* () {
      const revocation_url = "https://auth.example.com/revoke"
      const post = yield* resolveProvider({
        ...generic,
        revocation_url,
        quirks: { clientAuthentication: "client_secret_post" },
      })
      expect(post.oauth?.revocation?.authMethod).toBe("client_secret_post")
      const publicClient = yield* resolveProvider({
        ...generic,
        client_secret: undefined,
        revocation_url,
        quirks: { clientAuthentication: "none" },
      })
      expect(publicClient.oauth?.revocation?.authMethod).toBe("none")
    }),
  )

  it.effect("disables revocation with a null override", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({
        template: "google",
        ...credentials,
        quirks: { revocation: null },
      })
      expect(config.oauth?.revocation).toBeUndefined()
    }),
  )

  it.effect("rejects a webhook secret for a template without webhooks", () =>
    Effect.gen(function* () {
      const error = yield* failure({
        template: "microsoft",
        ...credentials,
        webhook_secret: Redacted.make("x"),
      })
      expect(error.field).toBe("webhook_secret")
    }),
  )

  it.effect("adds webhook settings through quirks", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({
        template: "microsoft",
        ...credentials,
        webhook_secret: Redacted.make("hook-secret"),
        quirks: {
          webhook: {
            scheme: "generic-hmac",
            signature: { header: "x-hub-sig", algorithm: "sha1", encoding: "base64", prefix: "" },
          },
        },
      })
      expect(config.webhook?.scheme).toBe("generic-hmac")
      expect(config.webhook?.signature?.algorithm).toBe("sha1")
      expect(config.webhook?.maxBodyBytes).toBe(1024 * 1024)
      expect(Redacted.value(config.webhook!.secret!)).toBe("hook-secret")
    }),
  )

  it.effect("overrides one webhook setting of a template", () =>
    Effect.gen(function* () {
      const config = yield* resolveProvider({
        template: "stripe",
        quirks: { webhook: { toleranceSeconds: 600 } },
      })
      expect(config.webhook?.toleranceSeconds).toBe(600)
      expect(config.webhook?.scheme).toBe("stripe")
    }),
  )

  it.effect("requires a generic-hmac webhook to name its signature", () =>
    Effect.gen(function* () {
      const quirks = { webhook: { signature: null } }
      const error = yield* failure({ template: "generic-hmac", quirks })
      expect(error.field).toBe("quirks.webhook.signature")
    }),
  )
})

describe("shopify shop", () => {
  const shopify = resolveProvider({ template: "shopify", ...credentials })

  it.effect("fills the shop subdomain into every URL", () =>
    Effect.gen(function* () {
      const client = yield* resolveOAuthClient(yield* shopify, { shop: "my-shop-1.myshopify.com" })
      expect(client.authorizationUrl).toBe("https://my-shop-1.myshopify.com/admin/oauth/authorize")
      expect(client.tokenUrl).toBe("https://my-shop-1.myshopify.com/admin/oauth/access_token")
      expect(client.revocation?.url).toBe(
        "https://my-shop-1.myshopify.com/admin/api_permissions/current.json",
      )
      expect(client.urlValues).toEqual({ shop: "my-shop-1.myshopify.com" })
    }),
  )

  it.effect("requires the shop metadata", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(resolveOAuthClient(yield* shopify, {}))
      expect(error.reason).toBe("missing_field")
      expect(error.field).toBe("metadata.shop")
    }),
  )

  it.effect("rejects a shop outside myshopify.com", () =>
    Effect.gen(function* () {
      const config = yield* shopify
      const shops = [
        "evil.com",
        "shop.myshopify.com.evil.com",
        "evil.com/.myshopify.com",
        "evil.com#.myshopify.com",
        "user@shop.myshopify.com",
        "Shop.myshopify.com",
        "-shop.myshopify.com",
        "shop.myshopify.com:8443",
        ".myshopify.com",
        "",
      ]
      for (const shop of shops) {
        const error = yield* Effect.flip(resolveOAuthClient(config, { shop }))
        expect(error.field, shop).toBe("metadata.shop")
      }
    }),
  )
})
