/**
 * `/v1/providers`: validation when configured, write-only secrets and
 * webhook secret rotation. The snapshot shared across instances is covered
 * by the two-process test in test/oauth/crossProcess.test.ts.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { App, json, putProvider, randomKey, send } from "../oauth/support/OAuthTestApp.ts"
import { storeModes } from "../support/StoreModes.ts"
import type { TestApp } from "../support/TestApp.ts"

const expectRejected = (app: TestApp, key: string, body: Record<string, unknown>, code: string) =>
  Effect.gen(function* () {
    const response = yield* send(app, "PUT", `/v1/providers/${key}`, body)
    const payload = yield* json(response)
    expect(response.status, JSON.stringify(payload)).toBe(400)
    expect(payload.error.code).toBe(code)
    return payload.error.message as string
  })

describe.each(storeModes)("providers api (%s stores)", (mode) => {
  layer(App.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("stores secrets and never returns them", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("slack")
        const created = yield* putProvider(app, key, {
          template: "slack",
          client_id: "111.222",
          client_secret: "super-secret-client-value",
          webhook_secret: "8f742231b10e8888abcd99yyyzzz85a5",
          scopes: "chat:write,channels:read",
        })
        expect(created.key).toBe(key)
        expect(created.has_client_secret).toBe(true)
        expect(created.token_url).toBe("https://slack.com/api/oauth.v2.access")
        expect(created.scopes).toEqual(["chat:write", "channels:read"])
        expect(created.webhook.scheme).toBe("slack")
        expect(created.webhook.has_secret).toBe(true)

        const listed = yield* json(yield* send(app, "GET", "/v1/providers"))
        const text = JSON.stringify(listed)
        expect(text).toContain(key)
        expect(text).not.toContain("super-secret-client-value")
        expect(text).not.toContain("8f742231b10e8888abcd99yyyzzz85a5")

        // A replace without secrets keeps the stored ones.
        const replaced = yield* putProvider(app, key, { template: "slack", client_id: "111.222" })
        expect(replaced.has_client_secret).toBe(true)
        expect(replaced.webhook.has_secret).toBe(true)
        expect(replaced.scopes).toEqual([])
      }).pipe(Effect.scoped),
    )

    it.effect("explicit fields override template defaults", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("google")
        const provider = yield* putProvider(app, key, {
          template: "google",
          client_id: "id.apps.googleusercontent.com",
          client_secret: "secret",
          token_url: "https://oauth2.example.com/token",
          quirks: { clientAuthentication: "client_secret_basic" },
        })
        expect(provider.token_url).toBe("https://oauth2.example.com/token")
        expect(provider.authorization_url).toBe("https://accounts.google.com/o/oauth2/v2/auth")
        expect(provider.quirks).toEqual({ clientAuthentication: "client_secret_basic" })
      }).pipe(Effect.scoped),
    )

    it.effect("rejects invalid configurations", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("bad")
        yield* expectRejected(app, key, { template: "nope", client_id: "x" }, "unknown_template")
        const http = yield* expectRejected(
          app,
          key,
          {
            template: "oauth2",
            client_id: "x",
            client_secret: "y",
            authorization_url: "http://example.com/authorize",
            token_url: "https://example.com/token",
          },
          "invalid_provider_config",
        )
        expect(http).toContain("authorization_url")
        yield* expectRejected(
          app,
          key,
          { template: "oauth2", client_id: "x", client_secret: "y" },
          "invalid_provider_config",
        )
        yield* expectRejected(
          app,
          key,
          { template: "google", client_id: "x", client_secret: "y", quirks: { pkce: "yes" } },
          "invalid_provider_config",
        )
        const webhook = yield* expectRejected(
          app,
          key,
          { template: "standard-webhooks", webhook_secret: "not-a-whsec-secret" },
          "invalid_webhook_config",
        )
        expect(webhook).not.toContain("not-a-whsec-secret")
        expect((yield* send(app, "GET", `/v1/providers/${key}`)).status).toBe(404)

        const badKey = yield* send(app, "PUT", "/v1/providers/Bad Key", { template: "oauth2" })
        expect(badKey.status).toBe(400)
      }).pipe(Effect.scoped),
    )

    it.effect("rotates a webhook secret keeping the old one", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("github")
        yield* putProvider(app, key, {
          template: "github",
          client_id: "Iv1.abc",
          client_secret: "secret",
          webhook_secret: "old-webhook-secret",
        })
        const rotated = yield* putProvider(app, key, {
          template: "github",
          client_id: "Iv1.abc",
          webhook_secret: "new-webhook-secret",
          keep_previous_webhook_secret: true,
        })
        expect(rotated.webhook.has_previous_secret).toBe(true)
        const ended = yield* putProvider(app, key, {
          template: "github",
          client_id: "Iv1.abc",
          webhook_secret_previous: null,
        })
        expect(ended.webhook.has_secret).toBe(true)
        expect(ended.webhook.has_previous_secret).toBe(false)
      }).pipe(Effect.scoped),
    )

    it.effect("organization keys read but do not write", () =>
      Effect.gen(function* () {
        const app = yield* App
        const key = randomKey("read")
        yield* putProvider(app, key, {
          template: "oauth2",
          client_id: "x",
          client_secret: "y",
          authorization_url: "https://a.example/auth",
          token_url: "https://a.example/token",
        })
        const created = yield* json(
          yield* send(app, "POST", "/v1/api-keys", { organization_id: "org-reader", name: "r" }),
        )
        const headers = {
          authorization: `Bearer ${created.key}`,
          "content-type": "application/json",
        }
        const read = yield* Effect.promise(() => app.fetch(`/v1/providers/${key}`, { headers }))
        expect(read.status).toBe(200)
        const write = yield* Effect.promise(() =>
          app.fetch(`/v1/providers/${key}`, {
            method: "PUT",
            headers,
            body: JSON.stringify({ template: "oauth2" }),
          }),
        )
        expect(write.status).toBe(403)
        const remove = yield* Effect.promise(() =>
          app.fetch(`/v1/providers/${key}`, { method: "DELETE", headers }),
        )
        expect(remove.status).toBe(403)
      }).pipe(Effect.scoped),
    )
  })
})
