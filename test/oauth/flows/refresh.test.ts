/**
 * Token refresh: single flight with a rotating refresh token, refresh
 * responses without a refresh token, the background refresher and the
 * keep-alive refresh.
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
import { refreshRequests, rotatingProvider } from "../support/RotatingProvider.ts"

const configure = (app: TestApp, fake: FakeProvider, quirks: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const key = randomKey("refresh")
    yield* putProvider(app, key, {
      template: "oauth2",
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: `${fake.url}/authorize`,
      token_url: `${fake.url}/token`,
      quirks,
    })
    return key
  })

/** Polls `check` every 250 ms for up to `attempts` tries, until it holds. */
const eventually = <A>(check: Effect.Effect<A>, holds: (value: A) => boolean, attempts = 160) =>
  check.pipe(
    Effect.filterOrFail(holds, () => new Error("condition not reached")),
    Effect.retry({ schedule: Schedule.spaced("250 millis"), times: attempts }),
  )

describe.each(storeModes)("token refresh (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "90 seconds" })((it) => {
    it.effect("concurrent requests refresh once with rotation", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        rotatingProvider(fake)
        const key = yield* configure(app, fake)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })

        const tokens = yield* Effect.forEach(
          Array.from({ length: 20 }),
          () => Effect.flatMap(getToken(app, id), json),
          { concurrency: "unbounded" },
        )
        expect(tokens.map((token) => token.access_token)).toEqual(Array(20).fill("AT2"))
        expect(refreshRequests(fake)).toHaveLength(1)
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.status).toBe("connected")

        // The rotated RT_B was stored with AT2: a forced refresh sends it.
        const forced = yield* json(yield* getToken(app, id, { force_refresh: true }))
        expect(forced.access_token).toBe("AT3")
        expect(refreshRequests(fake).at(-1)?.params.get("refresh_token")).toBe("RT_B")
      }).pipe(Effect.scoped),
    )

    it.effect("refresh without a refresh token keeps the stored one", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", (request) =>
          request.params.get("grant_type") === "refresh_token"
            ? jsonResponse({
                access_token: `AT-${refreshRequests(fake).length}`,
                token_type: "Bearer",
                expires_in: 3600,
              })
            : jsonResponse({
                access_token: "AT0",
                refresh_token: "RT1",
                token_type: "Bearer",
                expires_in: 3600,
              }),
        )
        const key = yield* configure(app, fake)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })
        const first = yield* json(yield* getToken(app, id, { force_refresh: true }))
        const second = yield* json(yield* getToken(app, id, { force_refresh: true }))
        expect(first.access_token).toBe("AT-1")
        expect(second.access_token).toBe("AT-2")
        expect(refreshRequests(fake).map((request) => request.params.get("refresh_token"))).toEqual(
          ["RT1", "RT1"],
        )
        // A token valid beyond the margin is handed out without a refresh.
        const cached = yield* json(yield* getToken(app, id))
        expect(cached.access_token).toBe("AT-2")
        expect(refreshRequests(fake)).toHaveLength(2)
      }).pipe(Effect.scoped),
    )

    it.effect("background refresher renews expiring tokens", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        // 60 s is inside the 5 minute refresh margin.
        rotatingProvider(fake, 60)
        const key = yield* configure(app, fake)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })

        yield* eventually(
          Effect.sync(() => refreshRequests(fake).length),
          (count) => count >= 1,
        )
        const integration = yield* eventually(
          Effect.flatMap(send(app, "GET", `/v1/integrations/${id}`), json),
          (value) => Date.parse(value.expires_at) - Date.now() > 30 * 60 * 1000,
        )
        expect(integration.status).toBe("connected")
        expect(refreshRequests(fake)).toHaveLength(1)
        const token = yield* json(yield* getToken(app, id))
        expect(token.access_token).toBe("AT2")
      }).pipe(Effect.scoped),
    )

    it.effect("keep-alive refreshes an unexpired token", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        rotatingProvider(fake, 86_400)
        const key = yield* configure(app, fake, { keepAliveRefreshSeconds: 1 })
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })

        yield* eventually(
          Effect.sync(() => refreshRequests(fake).length),
          (count) => count >= 1,
        )
        const token = yield* eventually(
          Effect.flatMap(getToken(app, id), json),
          (value) => value.access_token === "AT2",
        )
        expect(token.access_token).toBe("AT2")
      }).pipe(Effect.scoped),
    )
  })
})
