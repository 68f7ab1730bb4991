/**
 * One case per quirk field: each overrides the field on the generic template
 * and checks its effect on the protocol functions.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { findTemplate } from "../../../src/oauth/catalog/index.ts"
import { buildAuthorizationUrl } from "../../../src/oauth/protocol/AuthorizationUrl.ts"
import type { ProviderRequest } from "../../../src/oauth/protocol/ProviderRequest.ts"
import {
  buildAuthorizationCodeRequest,
  buildRevocationRequest,
} from "../../../src/oauth/protocol/TokenRequest.ts"
import { parseTokenResponse } from "../../../src/oauth/protocol/TokenResponse.ts"
import { CLIENT_ID, CLIENT_SECRET, clientFor, jsonResponse } from "./clients.ts"

const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
const CODE = Redacted.make("code-1")
const REDIRECT_URI = "https://service.example.com/oauth/callback"

/** The generic template with one quirk overridden. */
const withQuirks = (quirks: Record<string, unknown>, metadata: Record<string, string> = {}) =>
  clientFor(
    "oauth2",
    {
      authorization_url: "https://auth.example.com/authorize",
      token_url: "https://auth.example.com/token",
      scopes: ["read", "write"],
      quirks,
    },
    metadata,
  )

const authorizationParams = (quirks: Record<string, unknown>) =>
  Effect.map(withQuirks(quirks), (client) => {
    const request = { redirectUri: REDIRECT_URI, state: "s", codeChallenge: CHALLENGE }
    return new URL(buildAuthorizationUrl(client, request).url).searchParams
  })

const codeRequest = (quirks: Record<string, unknown>) =>
  Effect.map(withQuirks(quirks), (client) =>
    buildAuthorizationCodeRequest(client, { code: CODE, redirectUri: REDIRECT_URI }),
  )

const parse = (quirks: Record<string, unknown>, body: unknown) =>
  Effect.flatMap(withQuirks(quirks), (client) =>
    parseTokenResponse(client, jsonResponse(200, body)),
  )

const formBody = (request: ProviderRequest) =>
  Object.fromEntries(new URLSearchParams(Redacted.value(request.body!)))

describe("quirk fields", () => {
  it.effect("clientAuthentication picks Basic, body or no secret", () =>
    Effect.gen(function* () {
      const basic = yield* codeRequest({ clientAuthentication: "client_secret_basic" })
      expect(Redacted.value(basic.secretHeaders.authorization!)).toBe(
        `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`,
      )
      expect(formBody(basic).client_secret).toBeUndefined()

      const post = yield* codeRequest({ clientAuthentication: "client_secret_post" })
      expect(formBody(post).client_secret).toBe(CLIENT_SECRET)
      expect(post.secretHeaders.authorization).toBeUndefined()

      const none = yield* codeRequest({ clientAuthentication: "none" })
      expect(formBody(none).client_id).toBe(CLIENT_ID)
      expect(formBody(none).client_secret).toBeUndefined()
    }),
  )

  it.effect("pkce adds the S256 challenge", () =>
    Effect.gen(function* () {
      const withPkce = yield* authorizationParams({ pkce: true })
      expect(withPkce.get("code_challenge")).toBe(CHALLENGE)
      expect(withPkce.get("code_challenge_method")).toBe("S256")
      const withoutPkce = yield* authorizationParams({ pkce: false })
      expect(withoutPkce.has("code_challenge")).toBe(false)
      expect(withoutPkce.has("code_challenge_method")).toBe(false)
    }),
  )

  it.effect("scopeSeparator joins the requested scopes", () =>
    Effect.gen(function* () {
      expect((yield* authorizationParams({ scopeSeparator: "," })).get("scope")).toBe("read,write")
      expect((yield* authorizationParams({ scopeSeparator: " " })).get("scope")).toBe("read write")
    }),
  )

  it.effect("scopeParameter names the scope parameter", () =>
    Effect.gen(function* () {
      const params = yield* authorizationParams({ scopeParameter: "user_scope" })
      expect(params.get("user_scope")).toBe("read write")
      expect(params.has("scope")).toBe(false)
    }),
  )

  it.effect("requiredScopes come first in every request", () =>
    Effect.gen(function* () {
      const params = yield* authorizationParams({ requiredScopes: ["offline_access"] })
      expect(params.get("scope")).toBe("offline_access read write")
    }),
  )

  it.effect("extraAuthorizationParams are added to the authorization URL", () =>
    Effect.gen(function* () {
      const params = yield* authorizationParams({
        extraAuthorizationParams: { access_type: "offline", prompt: "consent" },
      })
      expect(params.get("access_type")).toBe("offline")
      expect(params.get("prompt")).toBe("consent")
    }),
  )

  it.effect("urlParameters fill placeholders from metadata", () =>
    Effect.gen(function* () {
      const client = yield* clientFor(
        "oauth2",
        {
          authorization_url: "https://{region}.auth.example.com/authorize",
          token_url: "https://{region}.auth.example.com/token",
          quirks: {
            urlParameters: { region: { metadataKey: "region", pattern: "eu|us", default: "us" } },
          },
        },
        { region: "eu" },
      )
      expect(client.tokenUrl).toBe("https://eu.auth.example.com/token")
      expect(client.urlValues).toEqual({ region: "eu" })
    }),
  )

  it.effect("tokenRequestEncoding selects a JSON body", () =>
    Effect.gen(function* () {
      const request = yield* codeRequest({ tokenRequestEncoding: "json" })
      expect(request.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(Redacted.value(request.body!)).grant_type).toBe("authorization_code")
    }),
  )

  it.effect("sendAcceptJson sets the Accept header", () =>
    Effect.gen(function* () {
      expect((yield* codeRequest({ sendAcceptJson: true })).headers.accept).toBe("application/json")
      expect((yield* codeRequest({ sendAcceptJson: false })).headers.accept).toBeUndefined()
    }),
  )

  it.effect("tokenPath finds a nested access token", () =>
    Effect.gen(function* () {
      const tokens = yield* parse(
        { tokenPath: "data.token" },
        { data: { token: "nested" }, token_type: "bearer" },
      )
      expect(Redacted.value(tokens.accessToken)).toBe("nested")
    }),
  )

  it.effect("refreshTokenPath finds a nested refresh token", () =>
    Effect.gen(function* () {
      const body = { access_token: "at", token_type: "bearer", data: { refresh: "rt-nested" } }
      const tokens = yield* parse({ refreshTokenPath: "data.refresh" }, body)
      expect(Redacted.value(tokens.refreshToken!)).toBe("rt-nested")
    }),
  )

  it.effect("expiresInPath finds a nested lifetime", () =>
    Effect.gen(function* () {
      const body = { access_token: "at", token_type: "bearer", data: { ttl: 60 } }
      const tokens = yield* parse({ expiresInPath: "data.ttl" }, body)
      expect(tokens.expiresAt).toEqual(new Date(60_000))
    }),
  )

  it.effect("scopePath finds nested scopes", () =>
    Effect.gen(function* () {
      const body = { access_token: "at", token_type: "bearer", data: { scopes: "a,b" } }
      const tokens = yield* parse({ scopePath: "data.scopes" }, body)
      expect(tokens.scopes).toEqual(["a", "b"])
    }),
  )

  it.effect("tokenTypePath finds a nested token type", () =>
    Effect.gen(function* () {
      const body = { access_token: "at", data: { type: "Bearer" } }
      const tokens = yield* parse({ tokenTypePath: "data.type" }, body)
      expect(tokens.tokenType).toBe("bearer")
    }),
  )

  it.effect("acceptedTokenTypes lists the token types allowed", () =>
    Effect.gen(function* () {
      const tokens = yield* parse(
        { acceptedTokenTypes: ["bot"] },
        { access_token: "at", token_type: "Bot" },
      )
      expect(tokens.tokenType).toBe("bot")
      const error = yield* Effect.flip(
        parse({ acceptedTokenTypes: ["bot"] }, { access_token: "at", token_type: "bearer" }),
      )
      expect(error).toMatchObject({ field: "token_type" })
    }),
  )

  it.effect("tokenTypeRequired allows a missing token type when false", () =>
    Effect.gen(function* () {
      const tokens = yield* parse({ tokenTypeRequired: false }, { access_token: "at" })
      expect(tokens.tokenType).toBe("bearer")
      const error = yield* Effect.flip(parse({ tokenTypeRequired: true }, { access_token: "at" }))
      expect(error).toMatchObject({ field: "token_type" })
    }),
  )

  it.effect("extraFieldsToKeep copies the listed paths", () =>
    Effect.gen(function* () {
      const body = {
        access_token: "at",
        token_type: "bearer",
        team: { id: "T1", name: "n" },
        other: 1,
      }
      const tokens = yield* parse({ extraFieldsToKeep: ["team.id", "missing"] }, body)
      expect(tokens.extra).toEqual({ "team.id": "T1" })
    }),
  )

  it.effect("errorInSuccessBody turns a 200 into a provider error", () =>
    Effect.gen(function* () {
      const rule = {
        errorInSuccessBody: { field: "status", equals: "failed", errorPath: "reason" },
      }
      const error = yield* Effect.flip(parse(rule, { status: "failed", reason: "expired_code" }))
      expect(error).toMatchObject({ reason: "provider_error", error: "expired_code" })
      const tokens = yield* parse(rule, {
        status: "done",
        access_token: "at",
        token_type: "bearer",
      })
      expect(Redacted.value(tokens.accessToken)).toBe("at")
    }),
  )

  it.effect("refreshTokenRotates marks providers that replace refresh tokens", () =>
    Effect.gen(function* () {
      for (const key of ["microsoft", "atlassian", "zoom", "linear"]) {
        expect(findTemplate(key)?.oauth?.refreshTokenRotates, key).toBe(true)
      }
      expect(findTemplate("google")?.oauth?.refreshTokenRotates).toBe(false)
      expect((yield* withQuirks({ refreshTokenRotates: true })).refreshTokenRotates).toBe(true)
    }),
  )

  it.effect("keepAliveRefreshSeconds marks refresh tokens that expire when idle", () =>
    Effect.gen(function* () {
      for (const key of ["google", "microsoft", "atlassian", "zoom"]) {
        expect(findTemplate(key)?.oauth?.keepAliveRefreshSeconds, key).toBeGreaterThan(0)
      }
      expect(findTemplate("slack")?.oauth?.keepAliveRefreshSeconds).toBeUndefined()
      const client = yield* withQuirks({ keepAliveRefreshSeconds: 86_400 })
      expect(client.keepAliveRefreshSeconds).toBe(86_400)
      expect(
        (yield* withQuirks({ keepAliveRefreshSeconds: null })).keepAliveRefreshSeconds,
      ).toBeUndefined()
    }),
  )

  it.effect("tokenNeverExpires marks providers without refresh tokens", () =>
    Effect.gen(function* () {
      for (const key of ["github", "slack", "shopify", "notion"]) {
        expect(findTemplate(key)?.oauth?.tokenNeverExpires, key).toBe(true)
      }
      expect(findTemplate("google")?.oauth?.tokenNeverExpires).toBe(false)
      expect((yield* withQuirks({ tokenNeverExpires: true })).tokenNeverExpires).toBe(true)
    }),
  )

  it.effect("revocation settings shape the revocation request", () =>
    Effect.gen(function* () {
      const client = yield* withQuirks({
        revocation: {
          url: "https://auth.example.com/tokens/revoke",
          method: "DELETE",
          token: { in: "json", parameter: "access_token" },
          tokenTypeHint: false,
          authMethod: "client_secret_post",
          revocableTokens: ["access_token"],
          headers: { "X-Api-Version": "2" },
        },
      })
      const token = Redacted.make("at-1")
      const request = buildRevocationRequest(client, { token, tokenType: "access_token" })!
      expect(request.method).toBe("DELETE")
      expect(request.url).toBe("https://auth.example.com/tokens/revoke")
      expect(request.headers["x-api-version"]).toBe("2")
      expect(JSON.parse(Redacted.value(request.body!))).toEqual({
        access_token: "at-1",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      })
      expect(buildRevocationRequest(client, { token, tokenType: "refresh_token" })).toBeUndefined()
    }),
  )
})
