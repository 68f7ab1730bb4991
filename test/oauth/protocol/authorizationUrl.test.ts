import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { buildAuthorizationUrl } from "../../../src/oauth/protocol/AuthorizationUrl.ts"
import { computeCodeChallenge, generatePkce } from "../../../src/oauth/protocol/Pkce.ts"
import { CLIENT_ID, CryptoLive, clientFor } from "./clients.ts"

const REDIRECT_URI = "https://service.example.com/oauth/callback"
const STATE = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"

const query = (url: string) => new URL(url).searchParams

describe("buildAuthorizationUrl", () => {
  it.effect("sends the parameters of RFC 6749 and an S256 challenge", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        authorization_url: "https://auth.example.com/authorize",
        token_url: "https://auth.example.com/token",
        scopes: ["read", "write"],
      })
      const pkce = yield* generatePkce
      const { url, scopes } = buildAuthorizationUrl(client, {
        redirectUri: REDIRECT_URI,
        state: STATE,
        codeChallenge: pkce.codeChallenge,
      })
      const params = query(url)
      expect(params.get("response_type")).toBe("code")
      expect(params.get("client_id")).toBe(CLIENT_ID)
      expect(params.get("redirect_uri")).toBe(REDIRECT_URI)
      expect(params.get("scope")).toBe("read write")
      expect(params.get("state")).toBe(STATE)
      expect(params.get("code_challenge")).toBe(yield* computeCodeChallenge(pkce.codeVerifier))
      expect(params.get("code_challenge_method")).toBe("S256")
      expect(scopes).toEqual(["read", "write"])
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("keeps query parameters of the authorization URL", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        authorization_url: "https://auth.example.com/authorize?tenant=acme&ui=compact",
        token_url: "https://auth.example.com/token",
        quirks: { pkce: false },
      })
      const { url } = buildAuthorizationUrl(client, { redirectUri: REDIRECT_URI, state: STATE })
      const params = query(url)
      expect(new URL(url).pathname).toBe("/authorize")
      expect(params.get("tenant")).toBe("acme")
      expect(params.get("ui")).toBe("compact")
      expect(params.get("state")).toBe(STATE)
    }),
  )

  it.effect("replaces a protocol parameter already in the URL", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("oauth2", {
        authorization_url: "https://auth.example.com/authorize?response_type=token",
        token_url: "https://auth.example.com/token",
        quirks: { pkce: false },
      })
      const { url } = buildAuthorizationUrl(client, { redirectUri: REDIRECT_URI, state: STATE })
      expect(query(url).getAll("response_type")).toEqual(["code"])
    }),
  )

  it.effect("adds google's offline parameters", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("google")
      const { url } = buildAuthorizationUrl(client, {
        redirectUri: REDIRECT_URI,
        state: STATE,
        codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      })
      const params = query(url)
      expect(url.startsWith("https://accounts.google.com/o/oauth2/v2/auth?")).toBe(true)
      expect(params.get("access_type")).toBe("offline")
      expect(params.get("prompt")).toBe("consent")
    }),
  )

  it.effect("always requests microsoft's offline_access scope", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("microsoft", { scopes: ["Mail.Read"] })
      const withRequestScopes = buildAuthorizationUrl(client, {
        redirectUri: REDIRECT_URI,
        state: STATE,
        scopes: ["Calendars.Read"],
        codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      })
      expect(query(withRequestScopes.url).get("scope")).toBe(
        "offline_access Mail.Read Calendars.Read",
      )

      const explicitOnly = yield* clientFor("microsoft", { scopes: "User.Read" })
      const { scopes } = buildAuthorizationUrl(explicitOnly, {
        redirectUri: REDIRECT_URI,
        state: STATE,
        codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      })
      expect(scopes).toEqual(["offline_access", "User.Read"])
    }),
  )

  it.effect("adds extra parameters of the request", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("slack")
      const { url } = buildAuthorizationUrl(client, {
        redirectUri: REDIRECT_URI,
        state: STATE,
        extraParams: { team: "T0123" },
      })
      expect(query(url).get("team")).toBe("T0123")
    }),
  )

  it.effect("throws when a PKCE client has no challenge", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("google")
      expect(() =>
        buildAuthorizationUrl(client, { redirectUri: REDIRECT_URI, state: STATE }),
      ).toThrow(/code challenge/)
    }),
  )

  it.effect("throws when an extra parameter replaces a protocol parameter", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("slack")
      const request = { redirectUri: REDIRECT_URI, state: STATE, extraParams: { state: "other" } }
      expect(() => buildAuthorizationUrl(client, request)).toThrow(/state/)
    }),
  )
})
