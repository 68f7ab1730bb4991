import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { startTestApp, type TestApp } from "../support/TestApp.ts"

const json = (response: Response) => Effect.promise(() => response.json() as Promise<any>)

const createKey = (app: TestApp, organizationId: string) =>
  Effect.gen(function* () {
    const response = yield* Effect.promise(() =>
      app.fetch("/v1/api-keys", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ organization_id: organizationId, name: "backend" }),
      }),
    )
    expect(response.status).toBe(201)
    return yield* json(response)
  })

describe.each(storeModes)("api keys (%s stores)", (mode) => {
  it.live("admin creates a key shown once", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const organizationId = `org-${crypto.randomUUID()}`
      const created = yield* createKey(app, organizationId)
      expect(created.key).toMatch(/^owk_[A-Za-z0-9_-]{43}$/)
      expect(created.organization_id).toBe(organizationId)

      const listed = yield* json(
        yield* Effect.promise(() => app.fetch(`/v1/api-keys?organization_id=${organizationId}`)),
      )
      expect(listed.data).toHaveLength(1)
      expect(listed.data[0].key).toBeUndefined()
      expect(JSON.stringify(listed)).not.toContain(created.key)
    }).pipe(Effect.scoped),
  )

  it.live("organization key sees only its organization", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const mine = yield* createKey(app, `org-${crypto.randomUUID()}`)
      yield* createKey(app, `org-${crypto.randomUUID()}`)
      const response = yield* Effect.promise(() =>
        app.fetch("/v1/api-keys", { headers: { authorization: `Bearer ${mine.key}` } }),
      )
      const listed = yield* json(response)
      expect(response.status).toBe(200)
      expect(listed.data.map((key: { id: string }) => key.id)).toEqual([mine.id])
    }).pipe(Effect.scoped),
  )

  it.live("organization key cannot create keys", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const mine = yield* createKey(app, `org-${crypto.randomUUID()}`)
      const response = yield* Effect.promise(() =>
        app.fetch("/v1/api-keys", {
          method: "POST",
          headers: { authorization: `Bearer ${mine.key}`, "content-type": "application/json" },
          body: JSON.stringify({ organization_id: "other", name: "x" }),
        }),
      )
      expect(response.status).toBe(403)
      expect((yield* json(response)).error.code).toBe("admin_key_required")
    }).pipe(Effect.scoped),
  )

  it.live("revoked key stops working", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const mine = yield* createKey(app, `org-${crypto.randomUUID()}`)
      const revoked = yield* Effect.promise(() =>
        app.fetch(`/v1/api-keys/${mine.id}`, { method: "DELETE" }),
      )
      expect(revoked.status).toBe(204)
      const response = yield* Effect.promise(() =>
        app.fetch("/v1/api-keys", { headers: { authorization: `Bearer ${mine.key}` } }),
      )
      expect(response.status).toBe(401)
    }).pipe(Effect.scoped),
  )

  it.live("revoking an unknown key is a 404", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* Effect.promise(() =>
        app.fetch(`/v1/api-keys/${crypto.randomUUID()}`, { method: "DELETE" }),
      )
      expect(response.status).toBe(404)
      expect((yield* json(response)).error.code).toBe("api_key_not_found")
    }).pipe(Effect.scoped),
  )
})
