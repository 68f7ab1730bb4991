import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { Webhook } from "standardwebhooks"
import { StandardWebhooksVerifier } from "../../../src/webhooks/verify/StandardWebhooks.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

// Published example from the Standard Webhooks specification.
const vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const vectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek"
const vectorTimestamp = 1614265330
const vectorBody = '{"test": 2432232314}'
const vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

const secret = "whsec_dGVzdC1zdGFuZGFyZC13ZWJob29rcy1rZXk="
const now = 1_700_000_000
const config = { secrets: [Redacted.make(secret)], options: {} }

const sign = (key: string, id: string, timestamp: number, body: string) =>
  new Webhook(key).sign(id, new Date(timestamp * 1000), body)

const standardRequest = (signature: string, timestamp = now, body = vectorBody, id = "msg_1") =>
  makeRequest(
    { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
    body,
    now,
  )

describe("Standard Webhooks signatures", () => {
  it.effect("verifies the published vector", () =>
    Effect.gen(function* () {
      const request = makeRequest(
        {
          "webhook-id": vectorId,
          "webhook-timestamp": String(vectorTimestamp),
          "webhook-signature": vectorSignature,
        },
        vectorBody,
        vectorTimestamp + 10,
      )
      const delivery = yield* StandardWebhooksVerifier.verify(request, {
        secrets: [Redacted.make(vectorSecret)],
        options: {},
      })

      expect(delivery.deliveryId).toBe(vectorId)
      expect(delivery.timestampSeconds).toBe(vectorTimestamp)
    }),
  )

  it.effect("verifies a signature from the official library", () =>
    Effect.gen(function* () {
      const signature = sign(secret, "msg_1", now, vectorBody)
      const delivery = yield* StandardWebhooksVerifier.verify(standardRequest(signature), config)
      expect(delivery.deliveryId).toBe("msg_1")
    }),
  )

  it.effect("accepts any of several space-separated signatures", () =>
    Effect.gen(function* () {
      const foreign = sign("whsec_b3RoZXIta2V5LWJ5dGVz", "msg_1", now, vectorBody)
      const own = sign(secret, "msg_1", now, vectorBody)
      const header = `${foreign} v1a,c29tZXRoaW5nIGVsc2U= ${own}`

      yield* StandardWebhooksVerifier.verify(standardRequest(header), config)
    }),
  )

  it.effect("signs the id, so a changed id is rejected", () =>
    Effect.gen(function* () {
      const signature = sign(secret, "msg_1", now, vectorBody)
      const request = standardRequest(signature, now, vectorBody, "msg_2")
      const error = yield* Effect.flip(StandardWebhooksVerifier.verify(request, config))
      expect(error.code).toBe("signature_mismatch")
    }),
  )

  it.effect("rejects timestamps outside the tolerance in both directions", () =>
    Effect.gen(function* () {
      for (const [timestamp, reason] of [
        [now - 301, "timestamp_too_old"],
        [now + 301, "timestamp_in_future"],
      ] as const) {
        const signature = sign(secret, "msg_1", timestamp, vectorBody)
        const error = yield* Effect.flip(
          StandardWebhooksVerifier.verify(standardRequest(signature, timestamp), config),
        )
        expect(error.reason).toBe(reason)
        expect(error.header).toBe("webhook-timestamp")
      }
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const oldSecret = "whsec_b2xkLXN0YW5kYXJkLWtleQ=="
      const newSecret = "whsec_bmV3LXN0YW5kYXJkLWtleQ=="
      const rotating = {
        secrets: [Redacted.make(oldSecret), Redacted.make(newSecret)],
        options: {},
      }
      for (const key of [oldSecret, newSecret]) {
        const signature = sign(key, "msg_1", now, vectorBody)
        yield* StandardWebhooksVerifier.verify(standardRequest(signature), rotating)
      }

      const error = yield* Effect.flip(
        StandardWebhooksVerifier.verify(
          standardRequest(sign(secret, "msg_1", now, "{}")),
          rotating,
        ),
      )
      expectNoLeak(error, [oldSecret, newSecret, oldSecret.slice(6), newSecret.slice(6)])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const valid = sign(secret, "msg_1", now, vectorBody)
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["garbage", "signature_mismatch"],
        ["", "malformed_header"],
        [valid.slice(3), "signature_mismatch"],
        [valid.slice(0, -4), "signature_mismatch"],
        [`v1,${Buffer.from(valid.slice(3), "base64").toString("hex")}`, "signature_mismatch"],
        [
          `v1,${Buffer.from(valid.slice(3), "base64").toString("base64url")}A`,
          "signature_mismatch",
        ],
        [`${valid} `.repeat(300), "malformed_header"],
      ]
      for (const [signature, reason] of cases) {
        const error = yield* Effect.flip(
          StandardWebhooksVerifier.verify(standardRequest(signature), config),
        )
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }
    }),
  )
})
