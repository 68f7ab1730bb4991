/**
 * Provider failures: retries of a 5xx, a provider that is down (the circuit
 * opens and callers get a clear error), and a provider that is too slow.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import type { TestApp } from "../../support/TestApp.ts"
import { jsonResponse, startFakeProvider } from "../support/FakeProvider.ts"
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
  startSession,
} from "../support/OAuthTestApp.ts"

const configure = (app: TestApp, tokenUrl: string) =>
  Effect.gen(function* () {
    const key = randomKey("resilience")
    yield* putProvider(app, key, {
      template: "oauth2",
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: "http://127.0.0.1:9/authorize",
      token_url: tokenUrl,
    })
    return key
  })

/** A loopback URL on which nothing listens: the server is started, then stopped. */
const closedPortUrl = Effect.sync(() => {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") })
  const url = `http://127.0.0.1:${server.port}/token`
  server.stop(true)
  return url
})

const exchangeError = (app: TestApp, key: string) =>
  Effect.gen(function* () {
    const session = yield* startSession(app, {
      organizationId: randomOrganization(),
      provider: key,
    })
    return redirectQuery(yield* callback(app, { code: "c", state: session.state }))
  })

describe.each(storeModes)("provider failures (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("refresh retries a 503 and then succeeds", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        let calls = 0
        fake.on("/token", () => {
          calls += 1
          // The code exchange succeeds, then the first refresh gets a 503.
          if (calls === 2) return new Response("busy", { status: 503 })
          return jsonResponse({
            access_token: `AT${calls}`,
            token_type: "Bearer",
            refresh_token: "RT",
            expires_in: 3600,
          })
        })
        const key = yield* configure(app, `${fake.url}/token`)
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })
        const token = yield* json(yield* getToken(app, id, { force_refresh: true }))
        expect(token.access_token).toBe("AT3")
        expect(fake.requestsTo("/token")).toHaveLength(3)
      }).pipe(Effect.scoped),
    )

    it.effect("provider down opens the circuit", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = yield* configure(app, yield* closedPortUrl)

        // Five failed calls in a row open the circuit.
        for (let call = 0; call < 5; call++) {
          const query = yield* exchangeError(app, key)
          expect(query.get("error")).toBe("provider_error")
          expect(query.get("error_description")).toContain("could not be reached")
        }
        const rejected = yield* exchangeError(app, key)
        expect(rejected.get("error")).toBe("provider_unavailable")
        expect(rejected.get("error_description")).toContain(`Provider ${key} is unavailable`)

        const metrics = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/metrics`).then((response) => response.text()),
        )
        const gauge = metrics
          .split("\n")
          .find((line) => line.startsWith(`oauth_circuit_breaker_state{provider="${key}"}`))
        expect(gauge).toBe(`oauth_circuit_breaker_state{provider="${key}"} 1`)
      }).pipe(Effect.scoped),
    )
  })

  layer(App.layer(mode, { providerTimeout: Duration.millis(300) }), {
    excludeTestServices: true,
    timeout: "60 seconds",
  })((it) => {
    it.effect("slow provider times out", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () =>
          Bun.sleep(3_000).then(() => jsonResponse({ access_token: "late", token_type: "Bearer" })),
        )
        const key = yield* configure(app, `${fake.url}/token`)
        const query = yield* exchangeError(app, key)
        expect(query.get("error")).toBe("provider_timeout")
        expect(query.get("error_description")).toContain("timed out")
        // A code is single-use, so the exchange is not retried.
        expect(fake.requestsTo("/token")).toHaveLength(1)
      }).pipe(Effect.scoped),
    )
  })
})
