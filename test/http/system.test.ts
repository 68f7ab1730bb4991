import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { startTestApp } from "../support/TestApp.ts"

const json = (response: Response) => Effect.promise(() => response.json() as Promise<any>)
const call = (promise: () => Promise<Response>) => Effect.promise(promise)

describe.each(storeModes)("system routes (%s stores)", (mode) => {
  it.live("health answers while the process runs", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* call(() => fetch(`${app.baseUrl}/health`))
      expect(response.status).toBe(200)
      expect(yield* json(response)).toEqual({ status: "ok" })
    }).pipe(Effect.scoped),
  )

  it.live("ready reports every store", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* call(() => fetch(`${app.baseUrl}/ready`))
      const body = yield* json(response)
      expect(response.status).toBe(200)
      expect(body.status).toBe("ready")
      expect(Object.keys(body.stores).sort()).toEqual(["clickhouse", "postgres", "redis"])
      for (const store of Object.values(body.stores) as Array<{ status: string }>) {
        expect(store.status).toBe("up")
      }
      const text = JSON.stringify(body)
      expect(text).not.toContain(app.adminKey)
    }).pipe(Effect.scoped),
  )

  it.live("metrics use the Prometheus text format", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      yield* call(() => fetch(`${app.baseUrl}/health`))
      const response = yield* call(() => fetch(`${app.baseUrl}/metrics`))
      const text = yield* Effect.promise(() => response.text())
      expect(response.status).toBe(200)
      expect(text).toContain("# TYPE http_server_requests_total counter")
      expect(text).toMatch(/http_server_requests_total\{[^}]*route="\/health"[^}]*\} \d+/)
    }).pipe(Effect.scoped),
  )

  it.live("openapi document and docs page describe the API", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const spec = yield* json(yield* call(() => fetch(`${app.baseUrl}/openapi.json`)))
      expect(spec.openapi).toMatch(/^3\./)
      expect(Object.keys(spec.paths)).toContain("/v1/api-keys")
      const docs = yield* call(() => fetch(`${app.baseUrl}/docs`))
      expect(docs.status).toBe(200)
      expect(docs.headers.get("content-type")).toContain("text/html")
    }).pipe(Effect.scoped),
  )

  it.live("metric labels stay bounded for invented paths", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      yield* call(() => fetch(`${app.baseUrl}/random-${crypto.randomUUID()}/x`))
      yield* call(() => app.fetch("/v1/integrations/not-a-uuid/token", { method: "POST" }))
      const text = yield* Effect.promise(() =>
        fetch(`${app.baseUrl}/metrics`).then((response) => response.text()),
      )
      expect(text).not.toContain("random-")
      expect(text).not.toContain("not-a-uuid")
      expect(text).toContain('route="unmatched"')
      expect(text).toContain('route="/v1/integrations/:param/token"')
    }).pipe(Effect.scoped),
  )

  it.live("body of another media type is a JSON 415", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* call(() =>
        app.fetch("/v1/api-keys", {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: "organization_id=o",
        }),
      )
      expect(response.status).toBe(415)
      expect((yield* json(response)).error.code).toBe("unsupported_media_type")
    }).pipe(Effect.scoped),
  )

  it.live("unknown route is a JSON 404", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* call(() => fetch(`${app.baseUrl}/no/such/route`))
      expect(response.status).toBe(404)
      expect((yield* json(response)).error.code).toBe("not_found")
    }).pipe(Effect.scoped),
  )

  it.live("api rejects a missing or unknown key", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const missing = yield* call(() => fetch(`${app.baseUrl}/v1/api-keys`))
      expect(missing.status).toBe(401)
      expect((yield* json(missing)).error.code).toBe("missing_api_key")
      const unknown = yield* call(() =>
        fetch(`${app.baseUrl}/v1/api-keys`, { headers: { authorization: "Bearer nope" } }),
      )
      expect(unknown.status).toBe(401)
      expect((yield* json(unknown)).error.code).toBe("invalid_api_key")
    }).pipe(Effect.scoped),
  )

  it.live("invalid body is a 400 naming the field", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* call(() =>
        app.fetch("/v1/api-keys", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ organization_id: 7, name: "x" }),
        }),
      )
      const body = yield* json(response)
      expect(response.status).toBe(400)
      expect(body.error.code).toBe("invalid_request")
      expect(body.error.message).toContain("organization_id")
    }).pipe(Effect.scoped),
  )

  it.live("body over the limit is rejected before parsing", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode, settings: { maxRequestBodyBytes: 1024 } })
      const response = yield* call(() =>
        app.fetch("/v1/api-keys", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ organization_id: "o", name: "x".repeat(4096) }),
        }),
      )
      expect(response.status).toBe(413)
    }).pipe(Effect.scoped),
  )
})
