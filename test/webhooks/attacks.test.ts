/**
 * Hostile and broken input against the ingest route: malformed headers,
 * bodies cut short or with lying lengths, bytes that are not UTF-8, bodies
 * built to hurt the parser, replays. Each must end in a clear 4xx, queue
 * nothing it should not, and leave the server serving.
 */
import { createHmac } from "node:crypto"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { startDestination } from "./support/Destination.ts"
import { rawRequest } from "./support/RawHttp.ts"
import {
  githubHeaders,
  nowSeconds,
  slackHeaders,
  standardHeaders,
  stripeHeaders,
} from "./support/Signers.ts"
import {
  countersOf,
  createProvider,
  deliver,
  errorCode,
  eventually,
  putTemplateProvider,
  randomKey,
  WebhookApp,
  type WebhookTestApp,
} from "./support/WebhookTestApp.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
const standardProvider = (app: WebhookTestApp, destination?: string) =>
  Effect.gen(function* () {
    const key = randomKey("std")
    yield* createProvider(app, key, {
      template: "standard-webhooks",
      webhook_secret: SECRET,
      ...(destination === undefined ? {} : { destination_url: destination }),
    })
    return key
  })

/** The server still accepts a valid delivery after the attack. */
const stillServing = (app: WebhookTestApp, key: string) =>
  Effect.gen(function* () {
    const body = JSON.stringify({ alive: crypto.randomUUID() })
    const response = yield* deliver(app, `/webhooks/${key}`, body, standardHeaders(SECRET, body))
    expect(response.status).toBe(200)
  })

const head = (path: string, port: string, lines: ReadonlyArray<string>) =>
  [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", ...lines, "", ""].join(
    "\n",
  )

describe.each(storeModes)("ingest under attack (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("rejects malformed signature headers", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider(app)
        const body = "{}"
        const valid = standardHeaders(SECRET, body, "msg_headers")
        const cases: Record<string, Record<string, string>> = {
          "signature not base64": { ...valid, "webhook-signature": "v1,***" },
          "signature without version": { ...valid, "webhook-signature": "g0hM9SsE" },
          "signature too long": { ...valid, "webhook-signature": `v1,${"A".repeat(9000)}` },
          "timestamp with fraction": { ...valid, "webhook-timestamp": `${nowSeconds()}.5` },
          "timestamp negative": { ...valid, "webhook-timestamp": "-5" },
          "timestamp huge": { ...valid, "webhook-timestamp": "9".repeat(40) },
          "empty id": { ...valid, "webhook-id": " " },
        }
        for (const [name, headers] of Object.entries(cases)) {
          const response = yield* deliver(app, `/webhooks/${key}`, body, headers)
          expect([400, 401], name).toContain(response.status)
          expect(errorCode(response.text), name).toBeDefined()
        }
        const [counters] = yield* countersOf(app, key)
        expect(counters!.accepted).toBe(0)
        yield* stillServing(app, key)
      }),
    )

    it.effect("rejects a doubled signature header", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("github")
        yield* putTemplateProvider(app, key, "github", { webhook_secret: "s" })
        const body = '{"zen":"x"}'
        const signed = yield* Effect.promise(() => githubHeaders("s", body))
        const port = new URL(app.baseUrl).port
        // Two header lines are joined with ", " and no longer decode.
        const response = yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [
            `X-Hub-Signature-256: ${signed["x-hub-signature-256"]}`,
            `X-Hub-Signature-256: ${signed["x-hub-signature-256"]}`,
            `Content-Length: ${body.length}`,
          ]),
          body,
        )
        expect(response.status).toBe(401)
      }),
    )

    it.effect("rejects lying and malformed lengths", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider(app)
        const port = new URL(app.baseUrl).port
        const body = '{"n":1}'
        const signed = standardHeaders(SECRET, body)
        const signedLines = Object.entries(signed).map(([name, value]) => `${name}: ${value}`)

        const huge = yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [...signedLines, "Content-Length: 999999999999"]),
        )
        expect(huge.status).toBe(413)

        const garbage = yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [...signedLines, "Content-Length: abc"]),
          body,
        )
        expect(garbage.status).toBe(400)

        const badChunk = yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [...signedLines, "Transfer-Encoding: chunked"]),
          "zz\r\n{}\r\n0\r\n\r\n",
        )
        expect(badChunk.status).toBe(400)

        const [counters] = yield* countersOf(app, key)
        expect(counters?.accepted ?? 0).toBe(0)
        yield* stillServing(app, key)
      }),
    )

    it.effect("rejects request smuggling shapes", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider(app)
        const port = new URL(app.baseUrl).port
        const path = `/webhooks/${key}`
        const both = yield* rawRequest(
          app.baseUrl,
          head(path, port, ["Content-Length: 5", "Transfer-Encoding: chunked"]),
          "0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        expect(both.status).toBe(400)
        expect(both.text).not.toContain("200 OK")
        const twoLengths = yield* rawRequest(
          app.baseUrl,
          head(path, port, ["Content-Length: 2", "Content-Length: 3"]),
          "{}x",
        )
        expect(twoLengths.status).toBe(400)
        const hugeHeader = yield* rawRequest(
          app.baseUrl,
          head(path, port, [`X-Filler: ${"a".repeat(200_000)}`, "Content-Length: 2"]),
          "{}",
        )
        expect(hugeHeader.status).toBe(431)
        yield* stillServing(app, key)
      }),
    )

    it.effect("queues nothing from a body cut short", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider(app)
        const port = new URL(app.baseUrl).port
        const body = JSON.stringify({ payload: "x".repeat(200) })
        const signed = standardHeaders(SECRET, body)
        const signedLines = Object.entries(signed).map(([name, value]) => `${name}: ${value}`)

        yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [...signedLines, `Content-Length: ${body.length}`]),
          body.slice(0, 50),
          { closeAfterWrite: true },
        )
        yield* stillServing(app, key)
        const [counters] = yield* countersOf(app, key)
        // Only the delivery that checks the server is still serving got in.
        expect(counters!.accepted).toBe(1)
      }),
    )

    it.effect("rejects bytes outside ISO-8859-1 in headers", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = yield* standardProvider(app)
        const port = new URL(app.baseUrl).port
        const body = "{}"
        const response = yield* rawRequest(
          app.baseUrl,
          head(`/webhooks/${key}`, port, [
            "webhook-id: msg_\u00ff\u00fe",
            `webhook-timestamp: ${nowSeconds()}`,
            "webhook-signature: v1,\u0000\u0001",
            `Content-Length: ${body.length}`,
          ]),
          body,
        )
        expect(response.status === 400 || response.status === 401).toBe(true)
        yield* stillServing(app, key)
      }),
    )

    it.effect("keeps the exact bytes of a body that is not UTF-8", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = randomKey("github")
        const secret = "bytes-secret"
        yield* putTemplateProvider(app, key, "github", {
          webhook_secret: secret,
          destination_url: destination.url,
        })
        // Latin-1 bytes, a lone continuation byte and a BOM-prefixed variant.
        const bodies = [
          new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]),
          new Uint8Array([0x80, 0x81, 0xff]),
          new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
        ]
        for (const body of bodies) {
          const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`
          const response = yield* deliver(app, `/webhooks/${key}`, body, {
            "x-hub-signature-256": signature,
            "x-github-event": "push",
            "x-github-delivery": crypto.randomUUID(),
          })
          expect(response.status).toBe(200)
        }
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(3)))
        const received = destination.received.map((delivery) => {
          const data = delivery.payload.data
          return data.body_encoding === "base64"
            ? new Uint8Array(Buffer.from(data.body, "base64"))
            : new TextEncoder().encode(data.body)
        })
        expect(received).toEqual(bodies)
        expect(destination.received[0]!.payload.data.body_encoding).toBe("base64")
        expect(destination.received[2]!.payload.data.body_encoding).toBe("utf8")
      }).pipe(Effect.scoped),
    )

    it.effect("survives a body built to exhaust the parser", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("slack")
        yield* putTemplateProvider(app, key, "slack", { webhook_secret: SLACK_SECRET })
        const nested = `{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`
        const deep = yield* deliver(
          app,
          `/webhooks/${key}`,
          nested,
          slackHeaders(SLACK_SECRET, nowSeconds(), nested),
        )
        expect([200, 400]).toContain(deep.status)

        const badChallenge = JSON.stringify({ type: "url_verification", challenge: { x: 1 } })
        const handshake = yield* deliver(
          app,
          `/webhooks/${key}`,
          badChallenge,
          slackHeaders(SLACK_SECRET, nowSeconds(), badChallenge),
        )
        expect(handshake.status).toBe(400)
        expect(errorCode(handshake.text)).toBe("malformed_body")

        const notJson = "{not json"
        const broken = yield* deliver(
          app,
          `/webhooks/${key}`,
          notJson,
          slackHeaders(SLACK_SECRET, nowSeconds(), notJson),
        )
        expect(broken.status).toBe(400)
      }),
    )

    it.effect("treats a replayed delivery as a duplicate", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("stripe")
        const secret = "whsec_replay"
        yield* createProvider(app, key, { template: "stripe", webhook_secret: secret })
        const body = JSON.stringify({ id: "evt_replayed", type: "charge.succeeded" })
        const headers = stripeHeaders(secret, body)

        const statuses: Array<string> = []
        for (let index = 0; index < 5; index++) {
          const response = yield* deliver(app, `/webhooks/${key}`, body, headers)
          statuses.push(JSON.parse(response.text).status)
        }
        expect(statuses).toEqual(["accepted", "duplicate", "duplicate", "duplicate", "duplicate"])

        // The same signature on other bytes is a forgery, not a replay.
        const altered = JSON.stringify({ id: "evt_other", type: "charge.succeeded" })
        const forged = yield* deliver(app, `/webhooks/${key}`, altered, headers)
        expect(forged.status).toBe(401)
        // A replay from outside the tolerance is stale whatever its id.
        const old = yield* deliver(
          app,
          `/webhooks/${key}`,
          body,
          stripeHeaders(secret, body, nowSeconds() - 3600),
        )
        expect(errorCode(old.text)).toBe("stale_timestamp")
      }),
    )

    it.effect("rejects hostile paths and methods", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        for (const path of [
          "/webhooks/..%2F..%2Fv1%2Fproviders",
          `/webhooks/${"a".repeat(5000)}`,
          "/webhooks/%00",
          "/webhooks/%E2%9C%93",
        ]) {
          const response = yield* deliver(app, path, "{}", {})
          expect(response.status, path).toBe(404)
        }
        const get = yield* Effect.promise(() => fetch(`${app.baseUrl}/webhooks/anything`))
        expect(get.status).toBe(404)
      }),
    )
  })
})
