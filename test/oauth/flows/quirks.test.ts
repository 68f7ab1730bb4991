/**
 * Provider quirks from the catalog, each played by a loopback fake of the
 * provider's token endpoint with the bytes the real provider sends.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import type { TestApp } from "../../support/TestApp.ts"
import {
  type FakeProvider,
  formResponse,
  jsonResponse,
  startFakeProvider,
} from "../support/FakeProvider.ts"
import {
  App,
  callback,
  connect,
  getToken,
  json,
  putProvider,
  randomKey,
  randomOrganization,
  redirectQuery,
  send,
  startSession,
} from "../support/OAuthTestApp.ts"

/** Configures a catalog template with every endpoint pointed at the fake. */
const fakeProvider = (
  app: TestApp,
  fake: FakeProvider,
  template: string,
  extra: Record<string, unknown> = {},
) =>
  Effect.gen(function* () {
    const key = randomKey(template)
    yield* putProvider(app, key, {
      template,
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: `${fake.url}/authorize`,
      token_url: `${fake.url}/token`,
      revocation_url: `${fake.url}/revoke`,
      ...extra,
    })
    return key
  })

const listFor = (app: TestApp, organizationId: string) =>
  Effect.flatMap(send(app, "GET", `/v1/integrations?organization_id=${organizationId}`), json)

describe.each(storeModes)("provider quirks (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("slack 200 with ok false fails the exchange", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () => jsonResponse({ ok: false, error: "invalid_code" }))
        const key = yield* fakeProvider(app, fake, "slack")
        const organizationId = randomOrganization()

        const session = yield* startSession(app, { organizationId, provider: key })
        const query = redirectQuery(yield* callback(app, { code: "bad", state: session.state }))
        expect(query.get("error")).toBe("invalid_code")
        expect(query.get("integration_id")).toBeNull()
        expect((yield* listFor(app, organizationId)).data).toEqual([])
      }).pipe(Effect.scoped),
    )

    it.effect("slack user token nested under authed_user", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () =>
          jsonResponse({
            ok: true,
            app_id: "A0KRD7HC3",
            team: { id: "T9TK3CUKW", name: "Slack Softball Team" },
            authed_user: {
              id: "U1234",
              scope: "chat:write,channels:history",
              access_token: "xoxp-1234",
              token_type: "user",
            },
          }),
        )
        const key = yield* fakeProvider(app, fake, "slack-user")
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
          scopes: ["chat:write"],
        })
        expect(session.authorizationUrl.searchParams.get("user_scope")).toContain("chat:write")
        expect(session.authorizationUrl.searchParams.get("code_challenge")).toBeNull()

        const query = redirectQuery(yield* callback(app, { code: "c", state: session.state }))
        const id = query.get("integration_id") ?? ""
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.scopes).toEqual(["chat:write", "channels:history"])
        expect(integration.external_id).toBe("T9TK3CUKW")
        expect(integration.expires_at).toBeNull()
        const token = yield* json(yield* getToken(app, id))
        expect(token.access_token).toBe("xoxp-1234")
        expect(token.token_type).toBe("user")

        // client_secret_post: the secret travels in the body, not a header.
        const [exchange] = fake.requestsTo("/token")
        expect(exchange?.params.get("client_secret")).toBe("client-secret")
        expect(exchange?.headers.get("authorization")).toBeNull()
      }).pipe(Effect.scoped),
    )

    it.effect("github form-encoded response without Accept json", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        // GitHub answers form-encoded unless asked for JSON; this fake ignores
        // the Accept header, so the parser must follow the Content-Type.
        fake.on("/token", () =>
          formResponse(
            "access_token=e72e16c7e42f292c6912e7710c838347ae178b4a&scope=user%2Cgist&token_type=bearer",
          ),
        )
        const key = yield* fakeProvider(app, fake, "github")
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })
        const token = yield* json(yield* getToken(app, id))
        expect(token.access_token).toBe("e72e16c7e42f292c6912e7710c838347ae178b4a")
        expect(token.scopes).toEqual(["user", "gist"])
        expect(fake.requestsTo("/token")[0]?.headers.get("accept")).toBe("application/json")
      }).pipe(Effect.scoped),
    )

    it.effect("github error in a 200 form body", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () =>
          formResponse(
            "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
          ),
        )
        const key = yield* fakeProvider(app, fake, "github")
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const query = redirectQuery(yield* callback(app, { code: "old", state: session.state }))
        expect(query.get("error")).toBe("bad_verification_code")
        expect(query.get("error_description")).toBe("The code passed is incorrect or expired.")
      }).pipe(Effect.scoped),
    )

    it.effect("google reconnect without refresh token keeps it", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        let exchanges = 0
        fake.on("/token", (request) => {
          if (request.params.get("grant_type") === "refresh_token") {
            return jsonResponse({
              access_token: "ya29.refreshed",
              expires_in: 3599,
              token_type: "Bearer",
            })
          }
          exchanges += 1
          return exchanges === 1
            ? jsonResponse({
                access_token: "ya29.first",
                refresh_token: "1//first-refresh",
                expires_in: 3599,
                token_type: "Bearer",
              })
            : jsonResponse({ access_token: "ya29.x", expires_in: 3599, token_type: "Bearer" })
        })
        const key = yield* fakeProvider(app, fake, "google")
        const organizationId = randomOrganization()

        const session = yield* startSession(app, { organizationId, provider: key })
        expect(session.authorizationUrl.searchParams.get("access_type")).toBe("offline")
        expect(session.authorizationUrl.searchParams.get("prompt")).toBe("consent")
        const first = redirectQuery(yield* callback(app, { code: "c1", state: session.state }))
        const id = first.get("integration_id") ?? ""

        const again = yield* connect(app, { organizationId, provider: key, code: "c2" })
        expect(again).toBe(id)
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.can_refresh).toBe(true)
        expect((yield* json(yield* getToken(app, id))).access_token).toBe("ya29.x")

        const refreshed = yield* json(yield* getToken(app, id, { force_refresh: true }))
        expect(refreshed.access_token).toBe("ya29.refreshed")
        const refresh = fake.requestsTo("/token").at(-1)
        expect(refresh?.params.get("refresh_token")).toBe("1//first-refresh")
      }).pipe(Effect.scoped),
    )

    it.effect("new integration without refresh token cannot refresh", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () =>
          jsonResponse({ access_token: "ya29.x", expires_in: 3599, token_type: "Bearer" }),
        )
        const key = yield* fakeProvider(app, fake, "google")
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.status).toBe("connected")
        expect(integration.can_refresh).toBe(false)
      }).pipe(Effect.scoped),
    )

    it.effect("microsoft dead grant moves to needs_reauth", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/common/token", (request) =>
          request.params.get("grant_type") === "refresh_token"
            ? jsonResponse(
                {
                  error: "invalid_grant",
                  error_description:
                    "AADSTS700082: The refresh token has expired due to inactivity.",
                  error_codes: [700082],
                },
                400,
              )
            : jsonResponse({
                access_token: "eyJ0-at",
                refresh_token: "0.AAA-rt",
                expires_in: 3600,
                token_type: "Bearer",
                scope: "openid profile User.Read offline_access",
              }),
        )
        const key = yield* fakeProvider(app, fake, "microsoft", {
          authorization_url: `${fake.url}/{tenant}/authorize`,
          token_url: `${fake.url}/{tenant}/token`,
          revocation_url: undefined,
        })
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        expect(session.authorizationUrl.pathname).toBe("/common/authorize")
        expect(session.authorizationUrl.searchParams.get("scope")?.split(" ")).toContain(
          "offline_access",
        )
        const query = redirectQuery(yield* callback(app, { code: "c", state: session.state }))
        const id = query.get("integration_id") ?? ""

        const refresh = yield* getToken(app, id, { force_refresh: true })
        expect(refresh.status).toBe(409)
        expect((yield* json(refresh)).error.code).toBe("integration_needs_reauth")
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.status).toBe("needs_reauth")
        expect(integration.status_reason).toContain("invalid_grant")
        expect(integration.status_reason).toContain("700082")
        expect(integration.can_refresh).toBe(false)

        const again = yield* getToken(app, id)
        expect(again.status).toBe(409)
        const refreshes = fake
          .requestsTo("/common/token")
          .filter((request) => request.params.get("grant_type") === "refresh_token")
        expect(refreshes).toHaveLength(1)

        const metrics = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/metrics`).then((response) => response.text()),
        )
        const line = metrics
          .split("\n")
          .find((text) => text.startsWith("oauth_token_refreshes_total{") && text.includes(key))
        expect(line).toContain('outcome="needs_reauth"')
      }).pipe(Effect.scoped),
    )

    it.effect("microsoft tenant from metadata fills the URLs", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* fakeProvider(app, fake, "microsoft", {
          authorization_url: `${fake.url}/{tenant}/authorize`,
          token_url: `${fake.url}/{tenant}/token`,
          revocation_url: undefined,
        })
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
          metadata: { tenant: "contoso.onmicrosoft.com" },
        })
        expect(session.authorizationUrl.pathname).toBe("/contoso.onmicrosoft.com/authorize")
      }).pipe(Effect.scoped),
    )

    it.effect("shopify shop subdomain from metadata", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("shopify")
        yield* putProvider(app, key, {
          template: "shopify",
          client_id: "shop-client",
          client_secret: "shop-secret",
          scopes: "read_products,write_orders",
        })
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
          metadata: { shop: "acme-store.myshopify.com" },
        })
        expect(session.authorizationUrl.host).toBe("acme-store.myshopify.com")
        expect(session.authorizationUrl.searchParams.get("scope")).toBe(
          "read_products,write_orders",
        )

        const bad = yield* send(app, "POST", "/v1/connect-sessions", {
          organization_id: randomOrganization(),
          provider: key,
          redirect_url: "http://app.test/connected",
          metadata: { shop: "evil.example.com/" },
        })
        expect(bad.status).toBe(400)
        expect((yield* json(bad)).error.code).toBe("invalid_request")
      }).pipe(Effect.scoped),
    )

    it.effect("expires_in as a string and missing", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        let body: Record<string, unknown> = {
          access_token: "at-string",
          token_type: "bearer",
          expires_in: "3600",
        }
        fake.on("/token", () => jsonResponse(body))
        const key = yield* fakeProvider(app, fake, "oauth2")
        const withString = yield* connect(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const token = yield* json(yield* getToken(app, withString))
        const seconds = (Date.parse(token.expires_at) - Date.now()) / 1000
        expect(seconds).toBeGreaterThan(3500)
        expect(seconds).toBeLessThanOrEqual(3600)

        body = { access_token: "at-none", token_type: "bearer" }
        const withoutExpiry = yield* connect(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const never = yield* json(yield* getToken(app, withoutExpiry))
        expect(never.access_token).toBe("at-none")
        expect(never.expires_at).toBeNull()
      }).pipe(Effect.scoped),
    )

    it.effect("oauth2 uses basic client authentication and PKCE", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () => jsonResponse({ access_token: "at", token_type: "Bearer" }))
        const key = yield* fakeProvider(app, fake, "oauth2")
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        expect(session.authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256")
        expect(session.state).toMatch(/^[A-Za-z0-9_-]{43}$/)
        redirectQuery(yield* callback(app, { code: "c", state: session.state }))

        const [exchange] = fake.requestsTo("/token")
        const expected = `Basic ${btoa("client-id:client-secret")}`
        expect(exchange?.headers.get("authorization")).toBe(expected)
        expect(exchange?.params.get("client_secret")).toBeNull()
        expect(exchange?.params.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43,128}$/)
        expect(exchange?.params.get("redirect_uri")).toBe(`${app.baseUrl}/oauth/callback`)
      }).pipe(Effect.scoped),
    )
  })
})
