/**
 * The ingest route end to end: acknowledgement only after the event is
 * queued, deduplication of verified deliveries, the body limit checked
 * before any hashing, unknown senders, counters and metrics.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { startDestination } from "./support/Destination.ts"
import { nowSeconds, standardHeaders } from "./support/Signers.ts"
import {
  api,
  countersOf,
  createProvider,
  deliver,
  errorCode,
  eventually,
  randomKey,
  WebhookApp,
} from "./support/WebhookTestApp.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

const standardProvider = (destination?: string, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const app = yield* WebhookApp
    const key = randomKey("std")
    yield* createProvider(app, key, {
      template: "standard-webhooks",
      webhook_secret: SECRET,
      ...(destination === undefined ? {} : { destination_url: destination }),
      ...extra,
    })
    return key
  })

describe.each(storeModes)("ingest route (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("acknowledges a verified delivery and delivers it", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = yield* standardProvider(destination.url)
        const body = JSON.stringify({ type: "invoice.paid", data: { id: 1 } })
        const headers = standardHeaders(SECRET, body, "msg_ingest_1")

        const response = yield* deliver(app, `/webhooks/${key}`, body, headers)
        expect(response.status).toBe(200)
        expect(JSON.parse(response.text)).toEqual({ status: "accepted" })

        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(1)))
        const [delivered] = destination.received
        expect(delivered!.payload.type).toBe("webhook.received")
        expect(delivered!.payload.data.body).toBe(body)
        expect(delivered!.payload.data.delivery_id).toBe("msg_ingest_1")
        expect(delivered!.payload.data.headers["webhook-id"]).toBe("msg_ingest_1")
        // Credentials never travel on: the signature header is not kept.
        expect(delivered!.payload.data.headers["webhook-signature"]).toBeUndefined()
      }).pipe(Effect.scoped),
    )

    it.effect("marks a replayed delivery duplicate", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = yield* standardProvider(destination.url)
        const body = JSON.stringify({ n: 1 })
        const headers = standardHeaders(SECRET, body, "msg_dup")

        const first = yield* deliver(app, `/webhooks/${key}`, body, headers)
        const second = yield* deliver(app, `/webhooks/${key}`, body, headers)
        expect(first.status).toBe(200)
        expect(second.status).toBe(200)
        expect(JSON.parse(second.text)).toEqual({ status: "duplicate" })

        const [counters] = yield* eventually(
          Effect.tap(countersOf(app, key), (rows) =>
            Effect.sync(() => expect(rows[0]?.delivered).toBe(1)),
          ),
        )
        expect(counters!.received).toBe(2)
        expect(counters!.accepted).toBe(1)
        expect(counters!.duplicates).toBe(1)
        expect(destination.received).toHaveLength(1)
      }).pipe(Effect.scoped),
    )

    it.effect("never claims an id for a forged delivery", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const body = JSON.stringify({ n: 2 })
        const forged = standardHeaders("whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", body, "msg_f")

        const rejected = yield* deliver(app, `/webhooks/${key}`, body, forged)
        expect(rejected.status).toBe(401)
        expect(errorCode(rejected.text)).toBe("signature_mismatch")

        // The genuine delivery with the same id is still new.
        const genuine = yield* deliver(
          app,
          `/webhooks/${key}`,
          body,
          standardHeaders(SECRET, body, "msg_f"),
        )
        expect(JSON.parse(genuine.text)).toEqual({ status: "accepted" })
      }),
    )

    it.effect("rejects an unknown provider with 404", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const response = yield* deliver(app, "/webhooks/no-such-provider", "{}", {})
        expect(response.status).toBe(404)
        expect(errorCode(response.text)).toBe("provider_not_found")

        const key = yield* standardProvider()
        const endpoint = yield* deliver(
          app,
          `/webhooks/${key}/6d1e7f7e-62a4-4b1e-9d0c-3a8d7e1f2b3c`,
          "{}",
          {},
        )
        expect(endpoint.status).toBe(404)
        expect(errorCode(endpoint.text)).toBe("unknown_endpoint")
        const notUuid = yield* deliver(app, `/webhooks/${key}/not-a-uuid`, "{}", {})
        expect(errorCode(notUuid.text)).toBe("unknown_endpoint")
      }),
    )

    it.effect("rejects a provider without webhook settings", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("nohook")
        // A Stripe provider without a secret receives no webhooks at all.
        yield* createProvider(app, key, { template: "stripe" })
        const response = yield* deliver(app, `/webhooks/${key}`, "{}", {})
        expect(response.status).toBe(404)
        expect(errorCode(response.text)).toBe("webhooks_not_configured")
      }),
    )

    it.effect("counts rejections by reason", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const body = "{}"
        const stale = standardHeaders(SECRET, body, "msg_old", nowSeconds() - 3600)
        expect((yield* deliver(app, `/webhooks/${key}`, body, stale)).status).toBe(400)
        const unsigned = { "webhook-id": "x", "webhook-timestamp": String(nowSeconds()) }
        expect((yield* deliver(app, `/webhooks/${key}`, body, unsigned)).status).toBe(400)

        const [counters] = yield* countersOf(app, key)
        expect(counters!.received).toBe(2)
        expect(counters!.rejected).toBe(2)
        expect(counters!.rejected_by_reason).toEqual({ timestamp_too_old: 1, missing_header: 1 })
      }),
    )

    it.effect("exposes webhook metrics", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const body = "{}"
        yield* deliver(app, `/webhooks/${key}`, body, standardHeaders(SECRET, body))
        yield* deliver(app, `/webhooks/${key}`, body, { "webhook-id": "x" })
        const metrics = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/metrics`).then((response) => response.text()),
        )
        expect(metrics).toContain(`webhook_ack_duration_seconds_count{provider="${key}"} 2`)
        expect(metrics).toContain(`webhook_events_total{provider="${key}",outcome="accepted"} 1`)
        expect(metrics).toContain(
          `webhook_verification_failures_total{provider="${key}",reason="missing_header"} 1`,
        )
        expect(metrics).toContain("webhook_queue_depth")
        expect(metrics).toContain("webhook_dead_letter_depth")
      }),
    )

    it.effect("labels ingest requests in HTTP metrics", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const body = "{}"
        const read = () =>
          Effect.promise(() => fetch(`${app.baseUrl}/metrics`).then((r) => r.text()))
        const series =
          'http_server_requests_total{method="POST",route="/webhooks/:param",status="200"}'
        const countOf = (metrics: string) => {
          const line = metrics.split("\n").find((text) => text.startsWith(series))
          return line === undefined ? 0 : Number(line.slice(series.length + 1))
        }
        const before = countOf(yield* read())
        yield* deliver(app, `/webhooks/${key}`, body, standardHeaders(SECRET, body))
        expect(countOf(yield* read())).toBe(before + 1)
      }),
    )

    it.effect("accepts other spellings of the path", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const body = "{}"
        const spellings = [`/webhooks/${key}/`, `/webhooks//${key}`, `//webhooks/${key}`]
        for (const [index, path] of spellings.entries()) {
          const headers = standardHeaders(SECRET, body, `msg_spelling_${index}`)
          const response = yield* deliver(app, path, body, headers)
          expect(response.status, path).toBe(200)
          expect(JSON.parse(response.text), path).toEqual({ status: "accepted" })
        }
        const [counters] = yield* countersOf(app, key)
        expect(counters!.accepted).toBe(spellings.length)
      }),
    )

    it.effect("routes other methods to the router", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        for (const method of ["GET", "PUT", "DELETE"]) {
          const response = yield* Effect.promise(() =>
            fetch(`${app.baseUrl}/webhooks/${key}`, { method }),
          )
          expect(response.status).toBe(404)
          expect(errorCode(yield* Effect.promise(() => response.text()))).toBe("not_found")
        }
      }),
    )

    it.effect("lists counters of every provider", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const result = yield* api(app, "GET", "/v1/webhooks/counters")
        expect(result.status).toBe(200)
        expect(Array.isArray(result.body.data)).toBe(true)
      }),
    )
  })
})

/**
 * The webhook limit sits below Bun's own request cap here (the cap follows
 * the larger /v1 body limit), so the route's own counting is what rejects.
 */
const limitSettings = { webhookMaxBodyBytes: 64 * 1024, maxRequestBodyBytes: 4 * 1024 * 1024 }

describe.each(storeModes)("ingest body limit (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode, limitSettings), {
    excludeTestServices: true,
    timeout: "60 seconds",
  })((it) => {
    it.effect("rejects a body over the limit before reading it", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const limit = app.settings.webhookMaxBodyBytes
        const body = "x".repeat(limit + 1)
        const response = yield* deliver(
          app,
          `/webhooks/${key}`,
          body,
          standardHeaders(SECRET, body),
        )
        expect(response.status).toBe(413)
        expect(errorCode(response.text)).toBe("payload_too_large")
        // A rejection by size is not a signature failure: nothing was hashed.
        const [counters] = yield* countersOf(app, key)
        expect(counters!.rejected_by_reason).toEqual({ payload_too_large: 1 })

        const fits = "y".repeat(limit)
        const accepted = yield* deliver(
          app,
          `/webhooks/${key}`,
          fits,
          standardHeaders(SECRET, fits),
        )
        expect(accepted.status).toBe(200)
      }),
    )

    it.effect("rejects a chunked body once it passes the limit", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider()
        const limit = app.settings.webhookMaxBodyBytes
        const chunk = new Uint8Array(16 * 1024).fill(0x61)
        let sent = 0
        // A stream body has no Content-Length, so fetch sends it chunked.
        const stream = new ReadableStream<Uint8Array>({
          pull: (controller) => {
            if (sent > limit * 2) return controller.close()
            sent += chunk.byteLength
            controller.enqueue(chunk)
          },
        })
        const response = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/webhooks/${key}`, {
            method: "POST",
            body: stream,
            headers: standardHeaders(SECRET, "ignored"),
          }).catch((error: unknown) => error as Error),
        )
        // The server responds 413 as soon as the count passes the limit, so
        // the client sees either that response or a reset while it sends.
        if (response instanceof Response) {
          expect(response.status).toBe(413)
          expect(errorCode(yield* Effect.promise(() => response.text()))).toBe("payload_too_large")
        }
        const [counters] = yield* eventually(
          Effect.tap(countersOf(app, key), (rows) =>
            Effect.sync(() =>
              expect(rows[0]?.rejected_by_reason).toEqual({ payload_too_large: 1 }),
            ),
          ),
        )
        expect(counters!.accepted).toBe(0)

        const small = new ReadableStream<Uint8Array>({
          start: (controller) => {
            controller.enqueue(new TextEncoder().encode('{"small":'))
            controller.enqueue(new TextEncoder().encode("true}"))
            controller.close()
          },
        })
        const okResponse = yield* Effect.promise(() =>
          fetch(`${app.baseUrl}/webhooks/${key}`, {
            method: "POST",
            body: small,
            headers: standardHeaders(SECRET, '{"small":true}'),
          }),
        )
        expect(okResponse.status).toBe(200)
      }),
    )
  })
})
