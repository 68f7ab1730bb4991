/**
 * Faults found by attacking the OAuth flows with hostile providers and
 * inputs, each kept as a case.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import { jsonResponse, startFakeProvider } from "../support/FakeProvider.ts"
import {
  App,
  callback,
  json,
  putProvider,
  randomKey,
  randomOrganization,
  redirectQuery,
  send,
  startSession,
} from "../support/OAuthTestApp.ts"

describe.each(storeModes)("oauth hardening (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("token endpoint redirect is not followed", () =>
      Effect.gen(function* () {
        const app = yield* App
        const provider = yield* startFakeProvider
        const elsewhere = yield* startFakeProvider
        elsewhere.on("/steal", () => jsonResponse({ access_token: "STOLEN", token_type: "bearer" }))
        provider.on(
          "/token",
          () =>
            new Response(null, { status: 307, headers: { location: `${elsewhere.url}/steal` } }),
        )
        const key = randomKey("redirect")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: "client-id",
          client_secret: "client-secret",
          authorization_url: `${provider.url}/authorize`,
          token_url: `${provider.url}/token`,
        })

        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const query = redirectQuery(yield* callback(app, { code: "code-1", state: session.state }))
        expect(query.get("status")).toBeNull()
        expect(query.get("error")).not.toBeNull()
        expect(elsewhere.requestsTo("/steal")).toHaveLength(0)
      }).pipe(Effect.scoped),
    )

    it.effect("authorization code is exchanged once on a 5xx", () =>
      Effect.gen(function* () {
        const app = yield* App
        const provider = yield* startFakeProvider
        provider.on("/token", () => jsonResponse({ error: "temporarily_unavailable" }, 503))
        const key = randomKey("once")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: "client-id",
          client_secret: "client-secret",
          authorization_url: `${provider.url}/authorize`,
          token_url: `${provider.url}/token`,
        })

        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const query = redirectQuery(yield* callback(app, { code: "code-1", state: session.state }))
        expect(query.get("error")).not.toBeNull()
        expect(provider.requestsTo("/token")).toHaveLength(1)
      }).pipe(Effect.scoped),
    )

    it.effect("absurd expires_in fails the exchange cleanly", () =>
      Effect.gen(function* () {
        const app = yield* App
        const provider = yield* startFakeProvider
        provider.on("/token", () =>
          jsonResponse({ access_token: "AT", token_type: "bearer", expires_in: 9007199254740991 }),
        )
        const key = randomKey("expiry")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: "client-id",
          client_secret: "client-secret",
          authorization_url: `${provider.url}/authorize`,
          token_url: `${provider.url}/token`,
        })

        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const query = redirectQuery(yield* callback(app, { code: "code-1", state: session.state }))
        expect(query.get("error")).not.toBe("server_error")
        expect(query.get("error")).not.toBeNull()
      }).pipe(Effect.scoped),
    )

    it.effect("NUL in input is a 400, not a store failure", () =>
      Effect.gen(function* () {
        const app = yield* App
        const created = yield* send(app, "POST", "/v1/api-keys", {
          organization_id: "org",
          name: "a\u0000b",
        })
        expect(created.status).toBe(400)
        expect((yield* json(created)).error.code).toBe("invalid_request")
        const listed = yield* send(app, "GET", "/v1/integrations?provider=%00")
        expect(listed.status).toBe(400)
      }).pipe(Effect.scoped),
    )

    it.effect("NUL in session metadata is rejected up front", () =>
      Effect.gen(function* () {
        const app = yield* App
        const response = yield* send(app, "POST", "/v1/connect-sessions", {
          organization_id: "org",
          provider: "any",
          redirect_url: "http://app.test/connected",
          metadata: { shop: "a\u0000b" },
        })
        expect(response.status).toBe(400)
        expect((yield* json(response)).error.message).toContain("metadata")
      }).pipe(Effect.scoped),
    )

    it.effect("HEAD on the callback consumes nothing", () =>
      Effect.gen(function* () {
        const app = yield* App
        const response = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/oauth/callback?state=s&code=c`, { method: "HEAD" }),
        )
        expect(response.status).toBe(405)
      }).pipe(Effect.scoped),
    )
  })
})
