/**
 * The analytics path end to end: signed webhooks through the ingest route,
 * the analytics stream, the batch writer and ClickHouse (chDB), read back
 * through `/v1/analytics/webhooks`.
 */
import { createHmac } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { startTestApp, type TestApp } from "../support/TestApp.ts"

const SECRET = "analytics-test-secret"

const json = (response: Response) => Effect.promise(() => response.json() as Promise<any>)

const configureGitHub = (app: TestApp, key: string) =>
  Effect.promise(() =>
    app.fetch(`/v1/providers/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ template: "github", webhook_secret: SECRET }),
    }),
  )

const sendSigned = (app: TestApp, key: string, deliveryId: string, secret = SECRET) => {
  const body = JSON.stringify({ action: "opened", installation: { id: 1 } })
  const signature = createHmac("sha256", secret).update(body).digest("hex")
  return Effect.promise(() =>
    fetch(`${app.baseUrl}/webhooks/${key}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": deliveryId,
        "x-hub-signature-256": `sha256=${signature}`,
      },
      body,
    }),
  )
}

/** Sums one column over the rows of a provider's minute buckets. */
const total = (rows: Array<Record<string, number>>, column: string) =>
  rows.reduce((sum, row) => sum + (row[column] ?? 0), 0)

describe.each(storeModes)("analytics api (%s stores)", (mode) => {
  it.live("counts webhook outcomes per provider", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const key = `gh${crypto.randomUUID().slice(0, 8)}`
      expect((yield* configureGitHub(app, key)).status).toBeLessThan(300)

      for (let i = 0; i < 5; i++) {
        expect((yield* sendSigned(app, key, `d-${i}`)).status).toBe(200)
      }
      expect((yield* sendSigned(app, key, "d-0")).status).toBe(200)
      expect((yield* sendSigned(app, key, "d-x", "wrong-secret")).status).toBe(401)

      const from = new Date(Date.now() - 10 * 60_000).toISOString()
      let rows: Array<Record<string, number>> = []
      for (let attempt = 0; attempt < 100; attempt++) {
        const response = yield* Effect.promise(() =>
          app.fetch(`/v1/analytics/webhooks?interval=minute&provider=${key}&from=${from}`),
        )
        expect(response.status).toBe(200)
        rows = (yield* json(response)).data
        if (total(rows, "received") >= 7 && total(rows, "rejected") >= 1) break
        yield* Effect.sleep("200 millis")
      }
      expect(total(rows, "received")).toBe(7)
      expect(total(rows, "accepted")).toBe(5)
      expect(total(rows, "duplicates")).toBe(1)
      expect(total(rows, "rejected")).toBe(1)
      expect(rows[0]?.ack_ms_p50).toBeGreaterThanOrEqual(0)
    }).pipe(Effect.scoped),
  )

  it.live("rejects an unparsable time", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const response = yield* Effect.promise(() => app.fetch("/v1/analytics/oauth?from=yesterday"))
      expect(response.status).toBe(400)
      expect((yield* json(response)).error.message).toContain("from")
    }).pipe(Effect.scoped),
  )

  it.live("confines an organization key to its organization", () =>
    Effect.gen(function* () {
      const app = yield* startTestApp({ mode })
      const created = yield* json(
        yield* Effect.promise(() =>
          app.fetch("/v1/api-keys", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ organization_id: `org-${crypto.randomUUID()}`, name: "a" }),
          }),
        ),
      )
      const response = yield* Effect.promise(() =>
        fetch(`${app.baseUrl}/v1/analytics/oauth?organization_id=someone-else`, {
          headers: { authorization: `Bearer ${created.key}` },
        }),
      )
      expect(response.status).toBe(200)
      expect((yield* json(response)).data).toEqual([])
    }).pipe(Effect.scoped),
  )
})
