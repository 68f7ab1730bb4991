/**
 * Field cases of webhook receivers, each played through the real ingest
 * route with signatures made the way the provider makes them.
 */
import { createHmac } from "node:crypto"
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { exportJWK, generateKeyPair, SignJWT } from "jose"
import { storeModes } from "../support/StoreModes.ts"
import { startDestination } from "./support/Destination.ts"
import {
  githubHeaders,
  nowSeconds,
  shopifyHeaders,
  slackHeaders,
  stripeHeaders,
  zoomHeaders,
} from "./support/Signers.ts"
import {
  api,
  countersOf,
  createProvider,
  deliver,
  errorCode,
  eventually,
  putTemplateProvider,
  randomKey,
  WebhookApp,
} from "./support/WebhookTestApp.ts"

const slackEvent = (eventId: string, team = "T1DC2JH3J") =>
  JSON.stringify({
    token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
    team_id: team,
    api_app_id: "A0KRD7HC3",
    event: { type: "message", channel: "C1", text: "hello", ts: "1.2" },
    type: "event_callback",
    event_id: eventId,
    event_time: 1_700_000_000,
  })

describe.each(storeModes)("webhook field cases (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("W1 verifies the exact bytes of a re-serialised body", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("github")
        const secret = "It's a Secret to Everybody"
        yield* putTemplateProvider(app, key, "github", { webhook_secret: secret })
        const original = `${JSON.stringify({ action: "opened", installation: { id: 42 } }, null, 2)}\n`
        const headers = yield* Effect.promise(() => githubHeaders(secret, original, "issues"))

        const accepted = yield* deliver(app, `/webhooks/${key}`, original, headers)
        expect(accepted.status).toBe(200)

        const crlf = original.replaceAll("\n", "\r\n")
        const withCrlf = yield* deliver(app, `/webhooks/${key}`, crlf, headers)
        expect(withCrlf.status).toBe(401)
        expect(errorCode(withCrlf.text)).toBe("signature_mismatch")

        const trimmed = original.slice(0, -1)
        const withoutNewline = yield* deliver(app, `/webhooks/${key}`, trimmed, headers)
        expect(withoutNewline.status).toBe(401)
        expect(errorCode(withoutNewline.text)).toBe("signature_mismatch")
      }),
    )

    it.effect("W2 rejects timestamps outside the tolerance both ways", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const stripeKey = randomKey("stripe")
        const secret = "whsec_test_secret"
        yield* createProvider(app, stripeKey, { template: "stripe", webhook_secret: secret })
        const body = JSON.stringify({ id: "evt_1", type: "charge.succeeded" })
        const post = (timestamp: number) =>
          deliver(app, `/webhooks/${stripeKey}`, body, stripeHeaders(secret, body, timestamp))

        const old = yield* post(nowSeconds() - 301)
        expect(old.status).toBe(400)
        expect(errorCode(old.text)).toBe("stale_timestamp")
        const future = yield* post(nowSeconds() + 301)
        expect(future.status).toBe(400)
        expect(errorCode(future.text)).toBe("stale_timestamp")
        expect((yield* post(nowSeconds() - 299)).status).toBe(200)

        const slackKey = randomKey("slack")
        const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
        yield* putTemplateProvider(app, slackKey, "slack", { webhook_secret: slackSecret })
        const event = slackEvent("EvW2")
        const stale = yield* deliver(
          app,
          `/webhooks/${slackKey}`,
          event,
          slackHeaders(slackSecret, nowSeconds() - 301, event),
        )
        expect(stale.status).toBe(400)
        expect(errorCode(stale.text)).toBe("stale_timestamp")

        const notNumeric = yield* deliver(
          app,
          `/webhooks/${slackKey}`,
          event,
          slackHeaders(slackSecret, "12abc", event),
        )
        expect(notNumeric.status).toBe(400)
        expect(errorCode(notNumeric.text)).toBe("malformed_header")

        const [counters] = yield* countersOf(app, stripeKey)
        expect(counters!.rejected_by_reason).toEqual({
          timestamp_too_old: 1,
          timestamp_in_future: 1,
        })
      }),
    )

    it.effect("W3 answers handshakes only after verification", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const slackKey = randomKey("slack")
        const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
        yield* putTemplateProvider(app, slackKey, "slack", {
          webhook_secret: slackSecret,
          destination_url: destination.url,
        })
        const challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        const body = JSON.stringify({
          token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
          challenge,
          type: "url_verification",
        })
        const answered = yield* deliver(
          app,
          `/webhooks/${slackKey}`,
          body,
          slackHeaders(slackSecret, nowSeconds(), body),
        )
        expect(answered.status).toBe(200)
        expect(answered.text).toBe(challenge)

        const forged = yield* deliver(
          app,
          `/webhooks/${slackKey}`,
          body,
          slackHeaders("wrong-secret", nowSeconds(), body),
        )
        expect(forged.status).toBe(401)
        expect(forged.text).not.toContain(challenge)

        const sslCheck = "ssl_check=1&token=xyzz0WbapA4vBCDEFasx0q6G"
        const ssl = yield* deliver(app, `/webhooks/${slackKey}`, sslCheck, {
          ...slackHeaders(slackSecret, nowSeconds(), sslCheck),
          "content-type": "application/x-www-form-urlencoded",
        })
        expect(ssl.status).toBe(200)

        const zoomKey = randomKey("zoom")
        const zoomSecret = "zoom-secret-token"
        yield* putTemplateProvider(app, zoomKey, "zoom", {
          webhook_secret: zoomSecret,
          destination_url: destination.url,
        })
        const validation = JSON.stringify({
          payload: { plainToken: "qgg8vlvZRS6UYooatFL8Aw" },
          event_ts: 1654503849680,
          event: "endpoint.url_validation",
        })
        const zoom = yield* deliver(
          app,
          `/webhooks/${zoomKey}`,
          validation,
          zoomHeaders(zoomSecret, nowSeconds(), validation),
        )
        expect(zoom.status).toBe(200)
        expect(JSON.parse(zoom.text)).toEqual({
          plainToken: "qgg8vlvZRS6UYooatFL8Aw",
          encryptedToken: createHmac("sha256", zoomSecret)
            .update("qgg8vlvZRS6UYooatFL8Aw")
            .digest("hex"),
        })

        // Neither handshake was queued: nothing accepted, nothing delivered.
        for (const key of [slackKey, zoomKey]) {
          const [counters] = yield* countersOf(app, key)
          expect(counters!.accepted).toBe(0)
        }
        expect(destination.received).toHaveLength(0)
      }).pipe(Effect.scoped),
    )

    it.effect("W4 processes a Slack retry once and a first-seen retry", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = randomKey("slack")
        const secret = "8f742231b10e8888abcd99yyyzzz85a5"
        yield* putTemplateProvider(app, key, "slack", {
          webhook_secret: secret,
          destination_url: destination.url,
        })
        const retryHeaders = { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" }
        const ev1 = slackEvent("Ev1")
        const ev2 = slackEvent("Ev2")

        const first = yield* deliver(
          app,
          `/webhooks/${key}`,
          ev1,
          slackHeaders(secret, nowSeconds(), ev1),
        )
        const retry = yield* deliver(app, `/webhooks/${key}`, ev1, {
          ...slackHeaders(secret, nowSeconds(), ev1),
          ...retryHeaders,
        })
        const unseen = yield* deliver(app, `/webhooks/${key}`, ev2, {
          ...slackHeaders(secret, nowSeconds(), ev2),
          ...retryHeaders,
        })
        expect(JSON.parse(first.text)).toEqual({ status: "accepted" })
        expect(JSON.parse(retry.text)).toEqual({ status: "duplicate" })
        expect(JSON.parse(unseen.text)).toEqual({ status: "accepted" })

        // Events of one workspace keep their order, so Ev2 arrives after Ev1.
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(2)))
        const ids = destination.received.map((delivery) => delivery.payload.data.delivery_id)
        expect(ids).toEqual(["Ev1", "Ev2"])
        expect(destination.received[1]!.payload.data.headers["x-slack-retry-num"]).toBe("1")
        // The window outlasts Slack's retries (1 minute, then 5 minutes).
        expect(Duration.toMinutes(app.settings.webhookDedupWindow)).toBeGreaterThanOrEqual(10)
        const [counters] = yield* countersOf(app, key)
        expect(counters!.duplicates).toBe(1)
        expect(counters!.accepted).toBe(2)
      }).pipe(Effect.scoped),
    )

    it.effect("W5 verifies a base64 Shopify signature and not hex", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("shopify")
        yield* putTemplateProvider(app, key, "shopify", { webhook_secret: "shop-secret" })
        const body = '{"id":1}'
        const headers = shopifyHeaders("shop-secret", body, "wh-1")
        expect(headers["x-shopify-hmac-sha256"]).toBe(
          "plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0=",
        )

        const accepted = yield* deliver(app, `/webhooks/${key}`, body, headers)
        expect(JSON.parse(accepted.text)).toEqual({ status: "accepted" })
        const again = yield* deliver(app, `/webhooks/${key}`, body, headers)
        expect(JSON.parse(again.text)).toEqual({ status: "duplicate" })

        const hex = Buffer.from(headers["x-shopify-hmac-sha256"], "base64").toString("hex")
        const asHex = yield* deliver(app, `/webhooks/${key}`, body, {
          ...headers,
          "x-shopify-hmac-sha256": hex,
          "x-shopify-webhook-id": "wh-2",
        })
        expect(asHex.status).toBe(401)
        expect(errorCode(asHex.text)).toBe("signature_mismatch")
      }),
    )

    it.effect("W6 acknowledges Google channel sync and checks the token", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = randomKey("google")
        yield* putTemplateProvider(app, key, "google", {
          webhook: {},
          destination_url: destination.url,
        })
        const created = yield* api(app, "POST", "/v1/webhooks/endpoints", {
          provider: key,
          secret: "tok1",
          options: { channelId: "ch1", resourceId: "r1" },
        })
        expect(created.status).toBe(201)
        expect(JSON.stringify(created.body)).not.toContain("tok1")

        const channel = (overrides: Record<string, string>) => ({
          "x-goog-channel-id": "ch1",
          "x-goog-channel-token": "tok1",
          "x-goog-resource-id": "r1",
          "x-goog-resource-state": "sync",
          "x-goog-message-number": "1",
          ...overrides,
        })

        const sync = yield* deliver(app, `/webhooks/${key}`, "", channel({}))
        expect(sync.status).toBe(200)
        const exists = yield* deliver(
          app,
          `/webhooks/${key}`,
          "",
          channel({ "x-goog-resource-state": "exists", "x-goog-message-number": "2" }),
        )
        expect(JSON.parse(exists.text)).toEqual({ status: "accepted" })
        // The endpoint's own path verifies the same channel.
        const viaEndpoint = yield* deliver(
          app,
          created.body.url_path,
          "",
          channel({ "x-goog-resource-state": "exists", "x-goog-message-number": "3" }),
        )
        expect(JSON.parse(viaEndpoint.text)).toEqual({ status: "accepted" })

        const wrongToken = yield* deliver(
          app,
          `/webhooks/${key}`,
          "",
          channel({ "x-goog-channel-token": "tok2", "x-goog-message-number": "4" }),
        )
        expect(wrongToken.status).toBe(401)
        expect(wrongToken.text).not.toContain("tok2")
        expect(wrongToken.text).not.toContain("tok1")
        const unknown = yield* deliver(
          app,
          `/webhooks/${key}`,
          "",
          channel({ "x-goog-channel-id": "ch9" }),
        )
        expect(unknown.status).toBe(401)
        expect(errorCode(unknown.text)).toBe("unknown_channel")
        const otherResource = yield* deliver(
          app,
          `/webhooks/${key}`,
          "",
          channel({ "x-goog-resource-id": "r2", "x-goog-message-number": "5" }),
        )
        expect(otherResource.status).toBe(401)

        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(2)))
        const states = destination.received.map((delivery) => delivery.payload.data.event_type)
        expect(states).toEqual(["exists", "exists"])
      }).pipe(Effect.scoped),
    )

    it.effect("W7 accepts only a valid Pub/Sub OIDC token", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const { publicKey, privateKey } = yield* Effect.promise(() =>
          generateKeyPair("RS256", { extractable: true }),
        )
        const jwk = {
          ...(yield* Effect.promise(() => exportJWK(publicKey))),
          kid: "k1",
          alg: "RS256",
        }
        const key = randomKey("pubsub")
        const audience = "https://hooks.example.com/pubsub"
        const email = "pusher@project.iam.gserviceaccount.com"
        yield* createProvider(app, key, {
          template: "google-pubsub",
          webhook: { audience, email, jwks: { keys: [jwk] } },
        })
        const token = (
          claims: Record<string, unknown>,
          options: { readonly audience?: string; readonly expiresAt?: number } = {},
        ) =>
          Effect.promise(() =>
            new SignJWT({ email, email_verified: true, ...claims })
              .setProtectedHeader({ alg: "RS256", kid: "k1" })
              .setIssuer("https://accounts.google.com")
              .setAudience(options.audience ?? audience)
              .setIssuedAt(nowSeconds() - 600)
              .setExpirationTime(options.expiresAt ?? nowSeconds() + 300)
              .sign(privateKey),
          )
        const body = (messageId: string) =>
          JSON.stringify({
            message: { data: Buffer.from("hello").toString("base64"), messageId },
            subscription: "projects/p/subscriptions/s",
          })
        const push = (jwt: string, messageId: string) =>
          deliver(app, `/webhooks/${key}`, body(messageId), {
            authorization: `Bearer ${jwt}`,
            "content-type": "application/json",
          })

        const valid = yield* token({})
        expect(JSON.parse((yield* push(valid, "1")).text)).toEqual({ status: "accepted" })
        expect(JSON.parse((yield* push(valid, "1")).text)).toEqual({ status: "duplicate" })

        const wrongAudience = yield* token({}, { audience: "https://other.example.com" })
        const unverified = yield* token({ email_verified: false })
        const otherAccount = yield* token({ email: "someone@example.com" })
        const expired = yield* token({}, { expiresAt: nowSeconds() - 120 })
        const rejections = { wrongAudience, unverified, otherAccount, expired }
        for (const [name, jwt] of Object.entries(rejections)) {
          const rejected = yield* push(jwt, "2")
          expect(rejected.status, name).toBe(401)
          expect(errorCode(rejected.text), name).toBe("invalid_token")
        }
        const missing = yield* deliver(app, `/webhooks/${key}`, body("3"), {})
        expect(missing.status).toBe(400)
      }),
    )
  })
})
