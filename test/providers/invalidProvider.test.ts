/**
 * A stored provider that no longer builds is reported as invalid with the
 * reason instead of looking absent. Here its http loopback URLs were saved
 * while ALLOW_HTTP_LOOPBACK_PROVIDERS was on. Its webhooks return 503, so
 * senders retry instead of dropping events after a 404.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { hasServers } from "../support/StoreModes.ts"
import { startTestApp } from "../support/TestApp.ts"

describe.runIf(hasServers)("invalid stored provider (servers stores)", () => {
  it.live("reports the reason after a setting change", () =>
    Effect.gen(function* () {
      const key = `loop-${crypto.randomUUID().slice(0, 8)}`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const app = yield* startTestApp({ mode: "servers" })
          const response = yield* Effect.promise(() =>
            app.fetch(`/v1/providers/${key}`, {
              method: "PUT",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                template: "oauth2",
                client_id: "client",
                client_secret: "secret",
                authorization_url: "http://127.0.0.1:1/authorize",
                token_url: "http://127.0.0.1:1/token",
              }),
            }),
          )
          expect(response.status).toBeLessThan(300)
        }),
      )

      const app = yield* startTestApp({
        mode: "servers",
        settings: { allowHttpLoopbackProviders: false },
      })
      const response = yield* Effect.promise(() => app.fetch(`/v1/providers/${key}`))
      const body = (yield* Effect.promise(() => response.json())) as {
        error: { code: string; message: string }
      }
      expect(response.status).toBe(503)
      expect(body.error.code).toBe("provider_invalid")
      expect(body.error.message).toContain("ALLOW_HTTP_LOOPBACK_PROVIDERS")

      const webhook = yield* Effect.promise(() =>
        fetch(`${app.baseUrl}/webhooks/${key}`, { method: "POST", body: "{}" }),
      )
      expect(webhook.status).toBe(503)

      yield* Effect.promise(() => app.fetch(`/v1/providers/${key}`, { method: "DELETE" }))
    }).pipe(Effect.scoped),
  )
})
