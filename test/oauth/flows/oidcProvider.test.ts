/**
 * The whole flow against oidc-provider, a certified OpenID Connect server:
 * authorization with PKCE and client_secret_basic, code exchange, token
 * hand-out, refresh with rotation, and RFC 7009 revocation on disconnect.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import {
  App,
  getToken,
  json,
  putProvider,
  randomKey,
  randomOrganization,
  redirectQuery,
  send,
  startSession,
} from "../support/OAuthTestApp.ts"
import {
  authorizeInBrowser,
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  startOidcServer,
} from "../support/OidcServer.ts"

describe.each(storeModes)("oidc-provider flow (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("connects, refreshes with rotation and revokes", () =>
      Effect.gen(function* () {
        const app = yield* App
        const callbackUrl = `${app.baseUrl}/oauth/callback`
        const oidc = yield* startOidcServer(callbackUrl)
        const key = randomKey("oidc")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: OIDC_CLIENT_ID,
          client_secret: OIDC_CLIENT_SECRET,
          authorization_url: `${oidc.issuer}/auth`,
          token_url: `${oidc.issuer}/token`,
          revocation_url: `${oidc.issuer}/token/revocation`,
          scopes: ["openid", "offline_access"],
          quirks: { extraAuthorizationParams: { prompt: "consent" } },
        })

        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        expect(session.authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256")
        const redirect = yield* authorizeInBrowser(
          session.authorizationUrl.toString(),
          callbackUrl,
          "user-1",
        )
        const response = yield* Effect.promise(() => fetch(redirect, { redirect: "manual" }))
        const query = redirectQuery(response)
        expect(query.get("error"), query.get("error_description") ?? "").toBeNull()
        const integrationId = query.get("integration_id") ?? ""

        const integration = yield* json(
          yield* send(app, "GET", `/v1/integrations/${integrationId}`),
        )
        expect(integration.status).toBe("connected")
        expect(integration.can_refresh).toBe(true)
        expect(integration.scopes).toEqual(expect.arrayContaining(["openid", "offline_access"]))

        const first = yield* json(yield* getToken(app, integrationId))
        const firstAtProvider = yield* Effect.promise(() =>
          oidc.provider.AccessToken.find(first.access_token),
        )
        expect(firstAtProvider?.accountId).toBe("user-1")

        const refreshed = yield* json(yield* getToken(app, integrationId, { force_refresh: true }))
        expect(refreshed.access_token).not.toBe(first.access_token)
        expect(oidc.events).toContain("refresh_token.consumed")
        const refreshedAtProvider = yield* Effect.promise(() =>
          oidc.provider.AccessToken.find(refreshed.access_token),
        )
        expect(refreshedAtProvider?.accountId).toBe("user-1")

        // The rotated refresh token was stored: a second refresh succeeds.
        const again = yield* json(yield* getToken(app, integrationId, { force_refresh: true }))
        expect(again.access_token).not.toBe(refreshed.access_token)

        const deleted = yield* send(app, "DELETE", `/v1/integrations/${integrationId}`)
        expect(deleted.status).toBe(204)
        const revoked = yield* Effect.promise(() =>
          oidc.provider.AccessToken.find(again.access_token),
        )
        expect(revoked).toBeUndefined()
        expect(oidc.events).toContain("grant.revoked")

        const after = yield* json(yield* send(app, "GET", `/v1/integrations/${integrationId}`))
        expect(after.status).toBe("disconnected")
        expect(after.can_refresh).toBe(false)
        const token = yield* getToken(app, integrationId)
        expect(token.status).toBe(409)
      }).pipe(Effect.scoped),
    )
  })
})
