/**
 * The callback's state handling and the access rules of connect sessions
 * and integrations.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../../support/StoreModes.ts"
import type { TestApp } from "../../support/TestApp.ts"
import { type FakeProvider, jsonResponse, startFakeProvider } from "../support/FakeProvider.ts"
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

const oauth2Provider = (app: TestApp, fake: FakeProvider) =>
  Effect.gen(function* () {
    fake.on("/token", () =>
      jsonResponse({
        access_token: "AT1",
        refresh_token: "RT1",
        token_type: "Bearer",
        expires_in: 3600,
      }),
    )
    const key = randomKey("callback")
    yield* putProvider(app, key, {
      template: "oauth2",
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: `${fake.url}/authorize`,
      token_url: `${fake.url}/token`,
    })
    return key
  })

const expectErrorPage = (response: Response) =>
  Effect.gen(function* () {
    expect(response.status).toBe(400)
    expect(response.headers.get("content-type")).toContain("text/html")
    expect(response.headers.get("cache-control")).toBe("no-store")
    const html = yield* Effect.promise(() => response.text())
    expect(html).toContain("<h1>")
  })

const createKey = (app: TestApp, organizationId: string) =>
  Effect.gen(function* () {
    const response = yield* send(app, "POST", "/v1/api-keys", {
      organization_id: organizationId,
      name: "backend",
    })
    return (yield* json(response)).key as string
  })

describe.each(storeModes)("oauth callback (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("double callback exchanges the code once", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* oauth2Provider(app, fake)
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })

        const responses = yield* Effect.all(
          [
            callback(app, { code: "c", state: session.state }),
            callback(app, { code: "c", state: session.state }),
          ],
          { concurrency: "unbounded" },
        )
        const statuses = responses.map((response) => response.status).sort()
        expect(statuses).toEqual([302, 400])
        expect(fake.requestsTo("/token")).toHaveLength(1)

        const reused = yield* callback(app, { code: "c", state: session.state })
        yield* expectErrorPage(reused)
        expect(fake.requestsTo("/token")).toHaveLength(1)
      }).pipe(Effect.scoped),
    )

    it.effect("rejects a tampered state", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* oauth2Provider(app, fake)
        const session = yield* startSession(app, {
          organizationId: randomOrganization(),
          provider: key,
        })
        const last = session.state.at(-1) === "A" ? "B" : "A"
        const tampered = session.state.slice(0, -1) + last

        yield* expectErrorPage(yield* callback(app, { code: "c", state: tampered }))
        yield* expectErrorPage(yield* callback(app, { code: "c", state: "short" }))
        yield* expectErrorPage(yield* callback(app, { code: "c" }))
        expect(fake.requestsTo("/token")).toHaveLength(0)

        // The real state still works: a failed guess does not consume it.
        const query = redirectQuery(yield* callback(app, { code: "c", state: session.state }))
        expect(query.get("status")).toBe("connected")
      }).pipe(Effect.scoped),
    )

    it.effect("user denial redirects with the error", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* oauth2Provider(app, fake)
        const organizationId = randomOrganization()
        const session = yield* startSession(app, { organizationId, provider: key })

        const response = yield* callback(app, {
          error: "access_denied",
          error_description: "The user denied the request",
          state: session.state,
        })
        const query = redirectQuery(response)
        expect(query.get("error")).toBe("access_denied")
        expect(query.get("error_description")).toBe("The user denied the request")
        expect(fake.requestsTo("/token")).toHaveLength(0)

        // The state was consumed by the denial.
        yield* expectErrorPage(yield* callback(app, { code: "c", state: session.state }))
        const listed = yield* json(
          yield* send(app, "GET", `/v1/integrations?organization_id=${organizationId}`),
        )
        expect(listed.data).toEqual([])
      }).pipe(Effect.scoped),
    )

    it.effect("rejects a redirect URL outside the allow-list", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* oauth2Provider(app, fake)
        for (const redirectUrl of [
          "https://evil.example/cb",
          "http://app.test.evil.example/",
          "not a url",
        ]) {
          const response = yield* send(app, "POST", "/v1/connect-sessions", {
            organization_id: randomOrganization(),
            provider: key,
            redirect_url: redirectUrl,
          })
          expect(response.status).toBe(400)
          expect((yield* json(response)).error.code).toBe("redirect_url_not_allowed")
        }
      }).pipe(Effect.scoped),
    )

    it.effect("unknown provider is a 404", () =>
      Effect.gen(function* () {
        const app = yield* App
        const response = yield* send(app, "POST", "/v1/connect-sessions", {
          organization_id: randomOrganization(),
          provider: "no-such-provider",
          redirect_url: "http://app.test/connected",
        })
        expect(response.status).toBe(404)
        expect((yield* json(response)).error.code).toBe("provider_not_found")
      }).pipe(Effect.scoped),
    )

    it.effect("organization key sees only its integrations", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const key = yield* oauth2Provider(app, fake)
        const mine = randomOrganization()
        const theirs = randomOrganization()
        const myKey = yield* createKey(app, mine)
        const asMine = { authorization: `Bearer ${myKey}`, "content-type": "application/json" }

        const forbidden = yield* Effect.promise(() =>
          app.fetch("/v1/connect-sessions", {
            method: "POST",
            headers: asMine,
            body: JSON.stringify({
              organization_id: theirs,
              provider: key,
              redirect_url: "http://app.test/connected",
            }),
          }),
        )
        expect(forbidden.status).toBe(403)

        const myIntegration = yield* connect(app, { organizationId: mine, provider: key })
        const theirIntegration = yield* connect(app, { organizationId: theirs, provider: key })

        const get = (id: string, path = "") =>
          Effect.promise(() => app.fetch(`/v1/integrations/${id}${path}`, { headers: asMine }))
        expect((yield* get(myIntegration)).status).toBe(200)
        const hidden = yield* get(theirIntegration)
        expect(hidden.status).toBe(404)
        expect((yield* json(hidden)).error.code).toBe("integration_not_found")
        const hiddenToken = yield* Effect.promise(() =>
          app.fetch(`/v1/integrations/${theirIntegration}/token`, {
            method: "POST",
            headers: asMine,
          }),
        )
        expect(hiddenToken.status).toBe(404)
        const hiddenDelete = yield* Effect.promise(() =>
          app.fetch(`/v1/integrations/${theirIntegration}`, { method: "DELETE", headers: asMine }),
        )
        expect(hiddenDelete.status).toBe(404)

        const listed = yield* json(
          yield* Effect.promise(() => app.fetch("/v1/integrations", { headers: asMine })),
        )
        expect(listed.data.map((item: { id: string }) => item.id)).toEqual([myIntegration])
        const token = yield* json(yield* getToken(app, theirIntegration))
        expect(token.access_token).toBe("AT1")
      }).pipe(Effect.scoped),
    )

    it.effect("lists integrations with a cursor", () =>
      Effect.gen(function* () {
        const app = yield* App
        const fake = yield* startFakeProvider
        const organizationId = randomOrganization()
        const ids: Array<string> = []
        for (let index = 0; index < 3; index++) {
          const key = yield* oauth2Provider(app, fake)
          ids.push(yield* connect(app, { organizationId, provider: key }))
        }
        const seen: Array<string> = []
        let cursor: string | null = null
        do {
          const query = `organization_id=${organizationId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`
          const page: any = yield* json(yield* send(app, "GET", `/v1/integrations?${query}`))
          for (const item of page.data) {
            expect(item.access_token).toBeUndefined()
            seen.push(item.id)
          }
          cursor = page.next_cursor
        } while (cursor !== null)
        expect(seen).toEqual([...ids].sort())

        const bad = yield* send(app, "GET", "/v1/integrations?cursor=bm9wZQ")
        expect(bad.status).toBe(400)
      }).pipe(Effect.scoped),
    )
  })
})
