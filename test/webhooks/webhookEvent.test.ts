/** The stream payload of a queued event, its stable id and the destination signature. */
import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { Webhook } from "standardwebhooks"
import { makeDestinationSigner } from "../../src/webhooks/DestinationSigner.ts"
import { makeLogThrottle } from "../../src/webhooks/LogThrottle.ts"
import {
  decodeBody,
  decodeEvent,
  encodeBody,
  encodeEvent,
  eventIdOf,
  type QueuedWebhook,
} from "../../src/webhooks/WebhookEvent.ts"

const event = (overrides: Partial<QueuedWebhook> = {}): QueuedWebhook => ({
  provider: "slack",
  endpointId: undefined,
  deliveryId: "Ev1",
  routingKey: "T1",
  eventType: "message",
  receivedAt: 1_700_000_000_000,
  headers: { "content-type": "application/json" },
  ...encodeBody(new TextEncoder().encode('{"a":1}')),
  ...overrides,
})

describe("queued webhook event", () => {
  it("round-trips through the stream payload", () => {
    const original = event()
    expect(decodeEvent(encodeEvent(original))).toEqual(
      JSON.parse(JSON.stringify(original)) as QueuedWebhook,
    )
    expect(decodeEvent("not json")).toBeUndefined()
    expect(decodeEvent('{"provider":1}')).toBeUndefined()
    expect(decodeEvent(JSON.stringify({ ...original, headers: { a: 1 } }))).toBeUndefined()
  })

  it("keeps bytes that are not UTF-8 as base64", () => {
    const bytes = new Uint8Array([0xff, 0x00, 0xfe])
    const encoded = encodeBody(bytes)
    expect(encoded.bodyEncoding).toBe("base64")
    expect(decodeBody(event(encoded))).toEqual(bytes)
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])
    expect(decodeBody(event(encodeBody(bom)))).toEqual(bom)
  })

  it("derives one id per provider delivery", () => {
    expect(eventIdOf(event(), "1-0")).toBe(eventIdOf(event(), "2-0"))
    expect(eventIdOf(event(), "1-0")).not.toBe(eventIdOf(event({ provider: "github" }), "1-0"))
    expect(eventIdOf(event(), "1-0")).not.toBe(eventIdOf(event({ endpointId: "e" }), "1-0"))
    expect(eventIdOf(event({ deliveryId: undefined }), "5-1")).toBe("evt_5-1")
    expect(eventIdOf(event({ eventId: "evt_replayed" }), "9-9")).toBe("evt_replayed")
  })
})

describe("destination signer", () => {
  it("signs so the Standard Webhooks library verifies", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    const sign = makeDestinationSigner(Redacted.make(secret))
    const body = JSON.stringify({ type: "webhook.received", data: { n: 1 } })
    const headers = sign("evt_1", Math.floor(Date.now() / 1000), body)
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body))
  })

  it("sends the id and time without a secret", () => {
    const headers = makeDestinationSigner(undefined)("evt_2", 1_700_000_000, "{}")
    expect(headers).toEqual({ "webhook-id": "evt_2", "webhook-timestamp": "1700000000" })
  })
})

describe("log throttle", () => {
  it("admits a few lines per interval and reports the rest", () => {
    let now = 0
    const throttle = makeLogThrottle({ perInterval: 2, intervalMillis: 1_000, now: () => now })
    expect(throttle.admit("k")).toBe(0)
    expect(throttle.admit("k")).toBe(0)
    expect(throttle.admit("k")).toBeUndefined()
    expect(throttle.admit("k")).toBeUndefined()
    expect(throttle.admit("other")).toBe(0)
    now = 1_000
    expect(throttle.admit("k")).toBe(2)
  })
})
