/**
 * Disconnecting: RFC 7009 revocation of each token on its own, refresh
 * token first, and a durable retry of the revocations that failed.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import type { TestApp } from "../../support/TestApp.ts"
import { type FakeProvider, jsonResponse, startFakeProvider } from "../support/FakeProvider.ts"
import {
  App,
  connect,
  getToken,
  json,
  putProvider,
  randomKey,
  randomOrganization,
  send,
} from "../support/OAuthTestApp.ts"

const configure = (app: TestApp, fake: FakeProvider) =>
  Effect.gen(function* () {
    fake.on("/token", () =>
      jsonResponse({
        access_token: "AT1",
        refresh_token: "RT1",
        token_type: "Bearer",
        expires_in: 3600,
      }),
    )
    const key = randomKey("revoke")
    yield* putProvider(app, key, {
      template: "oauth2",
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: `${fake.url}/authorize`,
      token_url: `${fake.url}/token`,
      revocation_url: `${fake.url}/revoke`,
    })
    return key
  })

const getIntegration = (app: TestApp, id: string) =>
  Effect.flatMap(send(app, "GET", `/v1/integrations/${id}`), json)

describe.each(storeModes)("disconnect (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("half-failed revocation is retried later", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        let refreshTokenUp = false
        fake.on("/revoke", (request) => {
          if (request.params.get("token") === "AT1") {
            return jsonResponse({ error: "invalid_token" }, 400)
          }
          return refreshTokenUp
            ? new Response(null, { status: 200 })
            : new Response("unavailable", { status: 503 })
        })
        const key = yield* configure(app, fake)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })

        const deleted = yield* send(app, "DELETE", `/v1/integrations/${id}`)
        expect(deleted.status).toBe(204)
        const revocations = fake.requestsTo("/revoke")
        expect(revocations.map((request) => request.params.get("token"))).toEqual(["RT1", "AT1"])
        expect(revocations.map((request) => request.params.get("token_type_hint"))).toEqual([
          "refresh_token",
          "access_token",
        ])
        expect(revocations[0]?.headers.get("authorization")).toBe(
          `Basic ${btoa("client-id:client-secret")}`,
        )

        const disconnected = yield* getIntegration(app, id)
        expect(disconnected.status).toBe("disconnected")
        expect(disconnected.pending_revocations).toBe(1)
        const token = yield* getToken(app, id)
        expect(token.status).toBe(409)
        expect((yield* json(token)).error.code).toBe("integration_disconnected")

        // The provider recovers; the worker retries the refresh token only.
        refreshTokenUp = true
        const settled = yield* getIntegration(app, id).pipe(
          Effect.filterOrFail(
            (value) => value.pending_revocations === 0,
            () => new Error("revocation still pending"),
          ),
          Effect.retry({ schedule: Schedule.spaced("500 millis"), times: 60 }),
        )
        expect(settled.status).toBe("disconnected")
        const retried = fake.requestsTo("/revoke").slice(2)
        expect(retried.length).toBeGreaterThanOrEqual(1)
        expect(retried.every((request) => request.params.get("token") === "RT1")).toBe(true)

        // A second delete is a no-op.
        expect((yield* send(app, "DELETE", `/v1/integrations/${id}`)).status).toBe(204)
        expect(fake.requestsTo("/revoke")).toHaveLength(2 + retried.length)
      }).pipe(Effect.scoped),
    )

    it.effect("provider refuses deletion while integrations exist", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/revoke", () => new Response(null, { status: 200 }))
        const key = yield* configure(app, fake)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })

        const refused = yield* send(app, "DELETE", `/v1/providers/${key}`)
        expect(refused.status).toBe(409)
        expect((yield* json(refused)).error.code).toBe("provider_in_use")

        expect((yield* send(app, "DELETE", `/v1/integrations/${id}`)).status).toBe(204)
        expect((yield* send(app, "DELETE", `/v1/providers/${key}`)).status).toBe(204)
        expect((yield* send(app, "GET", `/v1/providers/${key}`)).status).toBe(404)
      }).pipe(Effect.scoped),
    )
  })
})
