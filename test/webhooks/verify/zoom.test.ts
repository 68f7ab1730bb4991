import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { ZoomVerifier } from "../../../src/webhooks/verify/Zoom.ts"
import { expectNoLeak, hmacHex, makeRequest } from "./support.ts"

const secret = "zoom-secret-token"
const now = 1_654_503_850
const config = { secrets: [Redacted.make(secret)], options: {} }

const validationBody =
  '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,' +
  '"event":"endpoint.url_validation"}'

const zoomRequest = (body: string, key = secret, timestamp = now) =>
  makeRequest(
    {
      "x-zm-signature": `v0=${hmacHex(key, `v0:${timestamp}:${body}`)}`,
      "x-zm-request-timestamp": String(timestamp),
    },
    body,
    now,
  )

describe("Zoom webhook signatures", () => {
  it.effect("replies to url_validation only when signed", () =>
    Effect.gen(function* () {
      const delivery = yield* ZoomVerifier.verify(zoomRequest(validationBody), config)

      expect(delivery.handshake?.status).toBe(200)
      expect(delivery.handshake?.contentType).toBe("application/json")
      expect(JSON.parse(delivery.handshake?.body ?? "")).toEqual({
        plainToken: "qgg8vlvZRS6UYooatFL8Aw",
        encryptedToken: hmacHex(secret, "qgg8vlvZRS6UYooatFL8Aw"),
      })
      expect(delivery.eventType).toBe("endpoint.url_validation")

      const forged = zoomRequest(validationBody, "not-the-secret-token")
      const error = yield* Effect.flip(ZoomVerifier.verify(forged, config))
      expect(error.code).toBe("signature_mismatch")
    }),
  )

  it.effect("encrypts the token with the secret that verified", () =>
    Effect.gen(function* () {
      const rotating = {
        secrets: [Redacted.make("zoom-old"), Redacted.make("zoom-new")],
        options: {},
      }
      for (const key of ["zoom-old", "zoom-new"]) {
        const delivery = yield* ZoomVerifier.verify(zoomRequest(validationBody, key), rotating)
        const reply = JSON.parse(delivery.handshake?.body ?? "")
        expect(reply.encryptedToken).toBe(hmacHex(key, "qgg8vlvZRS6UYooatFL8Aw"))
      }
    }),
  )

  it.effect("reads the account and event of a delivery", () =>
    Effect.gen(function* () {
      const body = JSON.stringify({
        event: "meeting.started",
        event_ts: 1654503849680,
        payload: { account_id: "AAAAAABBBB", object: { id: "1" } },
      })
      const delivery = yield* ZoomVerifier.verify(zoomRequest(body), config)

      expect(delivery.routingKey).toBe("AAAAAABBBB")
      expect(delivery.eventType).toBe("meeting.started")
      expect(delivery.handshake).toBeUndefined()
      expect(delivery.timestampSeconds).toBe(now)
    }),
  )

  it.effect("rejects a stale timestamp before the signature", () =>
    Effect.gen(function* () {
      const request = zoomRequest(validationBody, "wrong", now - 301)
      const error = yield* Effect.flip(ZoomVerifier.verify(request, config))
      expect(error.code).toBe("stale_timestamp")
      expect(error.skewSeconds).toBe(301)
      expectNoLeak(error, [secret])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      for (const [signature, reason] of [
        ["garbage", "malformed_header"],
        ["", "malformed_header"],
        ["v0=abc", "signature_mismatch"],
        [`v0=${"f".repeat(9000)}`, "malformed_header"],
      ] as const) {
        const request = makeRequest(
          { "x-zm-signature": signature, "x-zm-request-timestamp": String(now) },
          validationBody,
          now,
        )
        const error = yield* Effect.flip(ZoomVerifier.verify(request, config))
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }
    }),
  )
})
