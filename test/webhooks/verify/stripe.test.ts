import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import Stripe from "stripe"
import { StripeVerifier } from "../../../src/webhooks/verify/Stripe.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

// Constructing the client sends no request, and only its webhook helpers are used.
const stripe = new Stripe("sk_test_unused")
const secret = "whsec_stripe_endpoint_secret"
const now = 1_700_000_000
const config = { secrets: [Redacted.make(secret)], options: {} }

const event = JSON.stringify({
  id: "evt_1",
  object: "event",
  type: "invoice.paid",
  account: "acct_1",
})

const stripeHeader = (payload: string, timestamp: number, key = secret) =>
  Effect.promise(() =>
    stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: key, timestamp }),
  )

const stripeRequest = (header: string, body = event) =>
  makeRequest({ "Stripe-Signature": header }, body, now)

describe("Stripe webhook signatures", () => {
  it.effect("verifies a header from the official library", () =>
    Effect.gen(function* () {
      const header = yield* stripeHeader(event, now)
      const delivery = yield* StripeVerifier.verify(stripeRequest(header), config)

      expect(delivery.deliveryId).toBe("evt_1")
      expect(delivery.eventType).toBe("invoice.paid")
      expect(delivery.routingKey).toBe("acct_1")
      expect(delivery.timestampSeconds).toBe(now)
    }),
  )

  it.effect("enforces the 300 s tolerance both ways", () =>
    Effect.gen(function* () {
      const old = yield* stripeHeader(event, now - 301)
      const oldError = yield* Effect.flip(StripeVerifier.verify(stripeRequest(old), config))
      expect(oldError.reason).toBe("timestamp_too_old")
      expect(oldError.skewSeconds).toBe(301)

      const ahead = yield* stripeHeader(event, now + 301)
      const aheadError = yield* Effect.flip(StripeVerifier.verify(stripeRequest(ahead), config))
      expect(aheadError.reason).toBe("timestamp_in_future")
      expect(aheadError.skewSeconds).toBe(-301)

      const recent = yield* stripeHeader(event, now - 299)
      const delivery = yield* StripeVerifier.verify(stripeRequest(recent), config)
      expect(delivery.timestampSeconds).toBe(now - 299)
    }),
  )

  it.effect("applies a configured tolerance", () =>
    Effect.gen(function* () {
      const header = yield* stripeHeader(event, now - 301)
      const wide = { secrets: config.secrets, options: { toleranceSeconds: 900 } }
      yield* StripeVerifier.verify(stripeRequest(header), wide)
    }),
  )

  it.effect("accepts any of several v1 signatures", () =>
    Effect.gen(function* () {
      const foreign = yield* stripeHeader(event, now, "whsec_someone_else")
      const own = yield* stripeHeader(event, now)
      const ownSignature = own.split(",")[1]!
      const header = `${foreign},v0=ignored,${ownSignature}`

      const delivery = yield* StripeVerifier.verify(stripeRequest(header), config)
      expect(delivery.deliveryId).toBe("evt_1")
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const rotating = {
        secrets: [Redacted.make("whsec_old"), Redacted.make("whsec_new")],
        options: {},
      }
      for (const key of ["whsec_old", "whsec_new"]) {
        const header = yield* stripeHeader(event, now, key)
        yield* StripeVerifier.verify(stripeRequest(header), rotating)
      }

      const header = yield* stripeHeader(event, now, "whsec_other")
      const error = yield* Effect.flip(StripeVerifier.verify(stripeRequest(header), rotating))
      expect(error.code).toBe("signature_mismatch")
      expectNoLeak(error, ["whsec_old", "whsec_new"])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const valid = yield* stripeHeader(event, now)
      const signature = valid.split(",")[1]!
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["garbage", "malformed_header"],
        ["", "malformed_header"],
        [signature, "malformed_header"],
        [`t=abc,${signature}`, "malformed_header"],
        [`t=${now},t=${now},${signature}`, "malformed_header"],
        [`t=${now}`, "signature_mismatch"],
        [`t=${now},v1=`, "signature_mismatch"],
        [`${valid.slice(0, -1)}`, "signature_mismatch"],
        [`t=${now},v1=${"zz".repeat(32)}`, "signature_mismatch"],
        [`t=${now},${"v1=00,".repeat(2000)}${signature}`, "malformed_header"],
      ]
      for (const [header, reason] of cases) {
        const error = yield* Effect.flip(StripeVerifier.verify(stripeRequest(header), config))
        expect(error.reason, header.slice(0, 30)).toBe(reason)
      }
    }),
  )

  it.effect("rejects a verified body without an event id", () =>
    Effect.gen(function* () {
      const body = JSON.stringify({ object: "event" })
      const header = yield* stripeHeader(body, now)
      const error = yield* Effect.flip(StripeVerifier.verify(stripeRequest(header, body), config))

      expect(error.code).toBe("malformed_body")
      expect(error.httpStatus).toBe(400)
    }),
  )
})
