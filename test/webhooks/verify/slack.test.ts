import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SlackVerifier } from "../../../src/webhooks/verify/Slack.ts"
import { expectNoLeak, hmacHex, makeRequest } from "./support.ts"

// Published example from Slack's "Verifying requests from Slack" guide.
const vectorSecret = "8f742231b10e8888abcd99yyyzzz85a5"
const vectorTimestamp = 1531420618
const vectorBody =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V" +
  "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=" +
  "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfm" +
  "ibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
const vectorSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

const secret = "slack-signing-secret-0123456789ab"
const now = 1_700_000_000
const config = { secrets: [Redacted.make(secret)], options: {} }

const signedRequest = (
  body: string,
  options: { timestamp?: number; secret?: string; nowSeconds?: number } = {},
) => {
  const timestamp = String(options.timestamp ?? now)
  const signature = `v0=${hmacHex(options.secret ?? secret, `v0:${timestamp}:${body}`)}`
  return makeRequest(
    { "X-Slack-Signature": signature, "X-Slack-Request-Timestamp": timestamp },
    body,
    options.nowSeconds ?? now,
  )
}

describe("Slack request signing", () => {
  it.effect("verifies the published slash command vector", () =>
    Effect.gen(function* () {
      const request = makeRequest(
        {
          "X-Slack-Signature": vectorSignature,
          "X-Slack-Request-Timestamp": String(vectorTimestamp),
        },
        vectorBody,
        vectorTimestamp + 5,
      )
      const delivery = yield* SlackVerifier.verify(request, {
        secrets: [Redacted.make(vectorSecret)],
        options: {},
      })

      expect(delivery.routingKey).toBe("T1DC2JH3J")
      expect(delivery.deliveryId).toBe("398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
      expect(delivery.timestampSeconds).toBe(vectorTimestamp)
      expect(delivery.handshake).toBeUndefined()
    }),
  )

  it.effect("reads Events API delivery fields", () =>
    Effect.gen(function* () {
      const body = JSON.stringify({
        type: "event_callback",
        team_id: "T0001",
        event_id: "Ev1",
        event: { type: "app_mention", text: "hi" },
      })
      const delivery = yield* SlackVerifier.verify(signedRequest(body), config)

      expect(delivery.deliveryId).toBe("Ev1")
      expect(delivery.routingKey).toBe("T0001")
      expect(delivery.eventType).toBe("app_mention")
      expect(delivery.handshake).toBeUndefined()
    }),
  )

  it.effect("reads the team of an interactivity payload", () =>
    Effect.gen(function* () {
      const payload = JSON.stringify({ type: "block_actions", team: { id: "T0002" } })
      const body = new URLSearchParams({ payload }).toString()
      const delivery = yield* SlackVerifier.verify(signedRequest(body), config)

      expect(delivery.routingKey).toBe("T0002")
      expect(delivery.eventType).toBe("block_actions")
    }),
  )

  it.effect("replies to url_verification only when signed", () =>
    Effect.gen(function* () {
      const body =
        '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWM' +
        'mHkvFXO7tYXAYM8P","type":"url_verification"}'
      const delivery = yield* SlackVerifier.verify(signedRequest(body), config)

      expect(delivery.handshake?.status).toBe(200)
      expect(delivery.handshake?.body).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
      expect(delivery.deliveryId).toBeUndefined()

      const forged = signedRequest(body, { secret: "not-the-signing-secret" })
      const error = yield* Effect.flip(SlackVerifier.verify(forged, config))
      expect(error.code).toBe("signature_mismatch")
      expect(error.httpStatus).toBe(401)
    }),
  )

  it.effect("acknowledges a signed ssl_check", () =>
    Effect.gen(function* () {
      const body = "ssl_check=1&token=xyzz0WbapA4vBCDEFasx0q6G"
      const delivery = yield* SlackVerifier.verify(signedRequest(body), config)

      expect(delivery.handshake?.status).toBe(200)
      expect(delivery.deliveryId).toBeUndefined()
    }),
  )

  it.effect("rejects a timestamp 301 seconds old with the skew", () =>
    Effect.gen(function* () {
      const request = signedRequest("{}", { timestamp: now - 301 })
      const error = yield* Effect.flip(SlackVerifier.verify(request, config))

      expect(error.reason).toBe("timestamp_too_old")
      expect(error.code).toBe("stale_timestamp")
      expect(error.skewSeconds).toBe(301)
      expect(error.header).toBe("x-slack-request-timestamp")
      expect(error.httpStatus).toBe(400)
    }),
  )

  it.effect("rejects a timestamp 301 seconds ahead", () =>
    Effect.gen(function* () {
      const request = signedRequest("{}", { timestamp: now + 301 })
      const error = yield* Effect.flip(SlackVerifier.verify(request, config))

      expect(error.reason).toBe("timestamp_in_future")
      expect(error.skewSeconds).toBe(-301)
    }),
  )

  it.effect("accepts timestamps exactly at the tolerance", () =>
    Effect.gen(function* () {
      yield* SlackVerifier.verify(signedRequest("{}", { timestamp: now - 300 }), config)
      yield* SlackVerifier.verify(signedRequest("{}", { timestamp: now + 300 }), config)
    }),
  )

  it.effect("checks the timestamp before the signature", () =>
    Effect.gen(function* () {
      const request = signedRequest("{}", { timestamp: now - 1000, secret: "wrong" })
      const error = yield* Effect.flip(SlackVerifier.verify(request, config))

      expect(error.code).toBe("stale_timestamp")
    }),
  )

  it.effect("rejects non-numeric timestamps", () =>
    Effect.gen(function* () {
      for (const timestamp of ["abc", "1700000000.5", "-1700000000", "1.7e9", "0x6553f100"]) {
        const signature = `v0=${hmacHex(secret, `v0:${timestamp}:{}`)}`
        const request = makeRequest(
          { "X-Slack-Signature": signature, "X-Slack-Request-Timestamp": timestamp },
          "{}",
          now,
        )
        const error = yield* Effect.flip(SlackVerifier.verify(request, config))
        expect(error.reason, timestamp).toBe("malformed_header")
        expect(error.header, timestamp).toBe("x-slack-request-timestamp")
      }
    }),
  )

  it.effect("applies a configured tolerance", () =>
    Effect.gen(function* () {
      const wide = { secrets: config.secrets, options: { toleranceSeconds: 600 } }
      yield* SlackVerifier.verify(signedRequest("{}", { timestamp: now - 301 }), wide)

      const narrow = { secrets: config.secrets, options: { toleranceSeconds: 60 } }
      const error = yield* Effect.flip(
        SlackVerifier.verify(signedRequest("{}", { timestamp: now - 61 }), narrow),
      )
      expect(error.code).toBe("stale_timestamp")
      expect(error.skewSeconds).toBe(61)
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const rotating = {
        secrets: [Redacted.make("old-secret"), Redacted.make("new-secret")],
        options: {},
      }
      yield* SlackVerifier.verify(signedRequest("{}", { secret: "old-secret" }), rotating)
      yield* SlackVerifier.verify(signedRequest("{}", { secret: "new-secret" }), rotating)

      const error = yield* Effect.flip(
        SlackVerifier.verify(signedRequest("{}", { secret: "other-secret" }), rotating),
      )
      expect(error.code).toBe("signature_mismatch")
      expectNoLeak(error, ["old-secret", "new-secret"])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const valid = `v0=${hmacHex(secret, `v0:${now}:{}`)}`
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["garbage", "malformed_header"],
        ["", "malformed_header"],
        [`v1=${valid.slice(3)}`, "malformed_header"],
        [valid.slice(0, -2), "signature_mismatch"],
        [`v0=${"zz".repeat(32)}`, "signature_mismatch"],
        [`v0=${Buffer.from(valid.slice(3), "hex").toString("base64")}`, "signature_mismatch"],
        [`v0=${"a".repeat(10_000)}`, "malformed_header"],
      ]
      for (const [signature, reason] of cases) {
        const request = makeRequest(
          { "X-Slack-Signature": signature, "X-Slack-Request-Timestamp": String(now) },
          "{}",
          now,
        )
        const error = yield* Effect.flip(SlackVerifier.verify(request, config))
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }
    }),
  )
})
