import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { ProviderRequest } from "../../../src/oauth/protocol/ProviderRequest.ts"
import {
  buildAuthorizationCodeRequest,
  buildRefreshTokenRequest,
  buildRevocationRequest,
} from "../../../src/oauth/protocol/TokenRequest.ts"
import { CLIENT_ID, CLIENT_SECRET, clientFor } from "./clients.ts"

const CODE = Redacted.make("auth-code-SplxlOBeZQQYbYS6WxSbIA")
const VERIFIER = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
const REFRESH_TOKEN = Redacted.make("refresh-tGzv3JOkF0XG5Qx2TlKWIA")
const ACCESS_TOKEN = Redacted.make("access-2YotnFZFEjr1zCsicMWpAA")
const REDIRECT_URI = "https://service.example.com/oauth/callback"

const generic = {
  authorization_url: "https://auth.example.com/authorize",
  token_url: "https://auth.example.com/token",
  revocation_url: "https://auth.example.com/revoke",
}

const formBody = (request: ProviderRequest) =>
  Object.fromEntries(new URLSearchParams(Redacted.value(request.body!)))

const authorization = (request: ProviderRequest) => {
  const value = request.secretHeaders.authorization
  return value === undefined ? undefined : Redacted.value(value)
}

describe("token requests", () => {
  it.effect("builds the authorization code grant of RFC 6749", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", generic)
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
        codeVerifier: VERIFIER,
      })
      expect(request.method).toBe("POST")
      expect(request.url).toBe("https://auth.example.com/token")
      expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded")
      expect(formBody(request)).toEqual({
        grant_type: "authorization_code",
        code: Redacted.value(CODE),
        redirect_uri: REDIRECT_URI,
        code_verifier: Redacted.value(VERIFIER),
      })
    }),
  )

  it.effect("builds the refresh token grant", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", generic)
      const request = buildRefreshTokenRequest(client, { refreshToken: REFRESH_TOKEN })
      expect(formBody(request)).toEqual({
        grant_type: "refresh_token",
        refresh_token: Redacted.value(REFRESH_TOKEN),
      })
      const narrowed = buildRefreshTokenRequest(client, {
        refreshToken: REFRESH_TOKEN,
        scopes: ["read", "write"],
      })
      expect(formBody(narrowed).scope).toBe("read write")
    }),
  )

  it.effect("matches the HTTP Basic example of RFC 6749", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        ...generic,
        client_id: "s6BhdRkqt3",
        client_secret: Redacted.make("gX1fBat3bV"),
      })
      const request = buildRefreshTokenRequest(client, { refreshToken: REFRESH_TOKEN })
      expect(authorization(request)).toBe("Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW")
      expect(formBody(request).client_secret).toBeUndefined()
    }),
  )

  it.effect("form-encodes the id and secret before Basic encoding", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        ...generic,
        client_id: "my client:1",
        client_secret: Redacted.make("p@ss word/+é"),
      })
      const request = buildRefreshTokenRequest(client, { refreshToken: REFRESH_TOKEN })
      const encoded = authorization(request)!.replace(/^Basic /, "")
      expect(atob(encoded)).toBe("my+client%3A1:p%40ss+word%2F%2B%C3%A9")
    }),
  )

  it.effect("sends client credentials in the body for client_secret_post", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("google")
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
      })
      expect(formBody(request).client_id).toBe(CLIENT_ID)
      expect(formBody(request).client_secret).toBe(CLIENT_SECRET)
      expect(request.secretHeaders.authorization).toBeUndefined()
    }),
  )

  it.effect("sends only the client id for a public client", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        ...generic,
        client_secret: undefined,
        revocation_url: undefined,
        quirks: { clientAuthentication: "none" },
      })
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
      })
      expect(formBody(request).client_id).toBe(CLIENT_ID)
      expect(formBody(request).client_secret).toBeUndefined()
      expect(request.secretHeaders).toEqual({})
    }),
  )

  it.effect("asks github for JSON", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("github")
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
      })
      expect(request.headers.accept).toBe("application/json")
    }),
  )

  it.effect("sends notion a JSON body with HTTP Basic", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("notion")
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
      })
      expect(request.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(Redacted.value(request.body!))).toEqual({
        grant_type: "authorization_code",
        code: Redacted.value(CODE),
        redirect_uri: REDIRECT_URI,
      })
      expect(authorization(request)).toMatch(/^Basic /)
    }),
  )

  it.effect("keeps codes and secrets out of the request's printed form", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("zoom")
      const request = buildAuthorizationCodeRequest(client, {
        code: CODE,
        redirectUri: REDIRECT_URI,
        codeVerifier: VERIFIER,
      })
      const printed = `${JSON.stringify(request)} ${String(request.body)}`
      expect(printed).not.toContain(Redacted.value(CODE))
      expect(printed).not.toContain(Redacted.value(VERIFIER))
      expect(printed).not.toContain(btoa(`${CLIENT_ID}:${CLIENT_SECRET}`))
    }),
  )
})

describe("revocation requests", () => {
  it.effect("follows RFC 7009 by default", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", generic)
      const request = buildRevocationRequest(client, {
        token: REFRESH_TOKEN,
        tokenType: "refresh_token",
      })!
      expect(request.method).toBe("POST")
      expect(request.url).toBe("https://auth.example.com/revoke")
      expect(formBody(request)).toEqual({
        token: Redacted.value(REFRESH_TOKEN),
        token_type_hint: "refresh_token",
      })
      expect(authorization(request)).toMatch(/^Basic /)
    }),
  )

  it.effect("sends google only the token", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("google")
      const request = buildRevocationRequest(client, {
        token: REFRESH_TOKEN,
        tokenType: "refresh_token",
      })!
      expect(request.url).toBe("https://oauth2.googleapis.com/revoke")
      expect(formBody(request)).toEqual({ token: Redacted.value(REFRESH_TOKEN) })
      expect(request.secretHeaders).toEqual({})
    }),
  )

  it.effect("deletes the github grant with a JSON body", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("github")
      const request = buildRevocationRequest(client, {
        token: ACCESS_TOKEN,
        tokenType: "access_token",
      })!
      expect(request.method).toBe("DELETE")
      expect(request.url).toBe(`https://api.github.com/applications/${CLIENT_ID}/grant`)
      expect(request.headers["content-type"]).toBe("application/json")
      expect(request.headers.accept).toBe("application/vnd.github+json")
      expect(JSON.parse(Redacted.value(request.body!))).toEqual({
        access_token: Redacted.value(ACCESS_TOKEN),
      })
      expect(authorization(request)).toMatch(/^Basic /)
    }),
  )

  it.effect("sends dropbox the token as a bearer credential", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("dropbox")
      const request = buildRevocationRequest(client, {
        token: ACCESS_TOKEN,
        tokenType: "access_token",
      })!
      expect(authorization(request)).toBe(`Bearer ${Redacted.value(ACCESS_TOKEN)}`)
      expect(request.body).toBeUndefined()
      expect(request.headers["content-type"]).toBeUndefined()
    }),
  )

  it.effect("sends shopify the token in its access token header", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("shopify", {}, { shop: "demo.myshopify.com" })
      const request = buildRevocationRequest(client, {
        token: ACCESS_TOKEN,
        tokenType: "access_token",
      })!
      expect(request.method).toBe("DELETE")
      expect(request.url).toBe("https://demo.myshopify.com/admin/api_permissions/current.json")
      const header = request.secretHeaders["x-shopify-access-token"]
      expect(header === undefined ? undefined : Redacted.value(header)).toBe(
        Redacted.value(ACCESS_TOKEN),
      )
    }),
  )

  it.effect("returns nothing without a revocation endpoint", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("microsoft")
      expect(
        buildRevocationRequest(client, { token: ACCESS_TOKEN, tokenType: "access_token" }),
      ).toBeUndefined()
    }),
  )

  it.effect("returns nothing for a token kind the endpoint does not take", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("zoom")
      expect(
        buildRevocationRequest(client, { token: REFRESH_TOKEN, tokenType: "refresh_token" }),
      ).toBeUndefined()
      expect(
        buildRevocationRequest(client, { token: ACCESS_TOKEN, tokenType: "access_token" }),
      ).toBeDefined()
    }),
  )
})
