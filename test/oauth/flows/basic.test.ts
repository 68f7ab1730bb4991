import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import { jsonResponse, startFakeProvider } from "../support/FakeProvider.ts"
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

describe.each(storeModes)("basic flow (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("connects and hands out the token", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        fake.on("/token", () =>
          jsonResponse({
            access_token: "AT1",
            token_type: "Bearer",
            expires_in: 3600,
            refresh_token: "RT1",
            scope: "read",
          }),
        )
        const key = randomKey("basic")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: "client-1",
          client_secret: "secret-1",
          authorization_url: `${fake.url}/authorize`,
          token_url: `${fake.url}/token`,
          scopes: ["read"],
        })
        const id = yield* connect(app, { organizationId: randomOrganization(), provider: key })
        const token = yield* json(yield* getToken(app, id))
        expect(token.access_token).toBe("AT1")
        const integration = yield* json(yield* send(app, "GET", `/v1/integrations/${id}`))
        expect(integration.status).toBe("connected")
      }).pipe(Effect.scoped),
    )
  })
})
