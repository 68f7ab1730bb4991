import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { GoogleChannelVerifier } from "../../../src/webhooks/verify/GoogleChannel.ts"
import type { GoogleChannel, GoogleOptions } from "../../../src/webhooks/verify/Scheme.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const now = 1_700_000_000
const channel: GoogleChannel = { id: "ch1", token: Redacted.make("tok1"), resourceId: "r1" }
const config = { secrets: [], options: { channels: [channel] } }

const channelRequestHeaders = {
  "X-Goog-Channel-ID": "ch1",
  "X-Goog-Channel-Token": "tok1",
  "X-Goog-Resource-ID": "r1",
  "X-Goog-Resource-State": "exists",
  "X-Goog-Message-Number": "2",
}

const channelRequest = (headers: Record<string, string> = {}) =>
  makeRequest({ ...channelRequestHeaders, ...headers }, "", now)

describe("Google push channel tokens", () => {
  it.effect("acknowledges a sync message as a handshake", () =>
    Effect.gen(function* () {
      const request = channelRequest({
        "X-Goog-Resource-State": "sync",
        "X-Goog-Message-Number": "1",
      })
      const delivery = yield* GoogleChannelVerifier.verify(request, config)

      expect(delivery.handshake?.status).toBe(200)
      expect(delivery.handshake?.body).toBe("")
      expect(delivery.eventType).toBe("sync")
    }),
  )

  it.effect("accepts an exists message as a delivery", () =>
    Effect.gen(function* () {
      const delivery = yield* GoogleChannelVerifier.verify(channelRequest(), config)

      expect(delivery.handshake).toBeUndefined()
      expect(delivery.deliveryId).toBe("ch1:2")
      expect(delivery.routingKey).toBe("ch1")
      expect(delivery.eventType).toBe("exists")
    }),
  )

  it.effect("rejects a wrong token with 401 and never shows it", () =>
    Effect.gen(function* () {
      const request = channelRequest({ "X-Goog-Channel-Token": "forged-token-value" })
      const error = yield* Effect.flip(GoogleChannelVerifier.verify(request, config))

      expect(error.code).toBe("invalid_token")
      expect(error.httpStatus).toBe(401)
      expect(error.header).toBe("x-goog-channel-token")
      expectNoLeak(error, ["forged-token-value", "tok1"])
    }),
  )

  it.effect("rejects an unknown channel with 401", () =>
    Effect.gen(function* () {
      const request = channelRequest({ "X-Goog-Channel-ID": "ch9" })
      const error = yield* Effect.flip(GoogleChannelVerifier.verify(request, config))

      expect(error.code).toBe("unknown_channel")
      expect(error.httpStatus).toBe(401)
      expectNoLeak(error, ["tok1"])
    }),
  )

  it.effect("rejects a mismatched resource id with 401", () =>
    Effect.gen(function* () {
      const request = channelRequest({ "X-Goog-Resource-ID": "r2" })
      const error = yield* Effect.flip(GoogleChannelVerifier.verify(request, config))

      expect(error.reason).toBe("resource_mismatch")
      expect(error.code).toBe("unknown_channel")
      expect(error.httpStatus).toBe(401)
      expectNoLeak(error, ["tok1"])
    }),
  )

  it.effect("ignores the resource id when the channel has none", () =>
    Effect.gen(function* () {
      const options = { channels: [{ id: "ch1", token: Redacted.make("tok1") }] }
      const request = channelRequest({ "X-Goog-Resource-ID": "anything" })
      yield* GoogleChannelVerifier.verify(request, { secrets: [], options })
    }),
  )

  it.effect("finds channels through a lookup", () =>
    Effect.gen(function* () {
      const requestedIds: Array<string> = []
      const options: GoogleOptions = {
        findChannel: (id) => {
          requestedIds.push(id)
          return Effect.succeed(id === "ch1" ? channel : undefined)
        },
      }
      yield* GoogleChannelVerifier.verify(channelRequest(), { secrets: [], options })
      expect(requestedIds).toEqual(["ch1"])
    }),
  )

  it.effect("rejects missing and malformed channel headers", () =>
    Effect.gen(function* () {
      for (const header of [
        "X-Goog-Channel-ID",
        "X-Goog-Channel-Token",
        "X-Goog-Resource-State",
        "X-Goog-Message-Number",
      ]) {
        const headers = new Headers(channelRequestHeaders)
        headers.delete(header)
        const request = makeRequest(Object.fromEntries(headers), "", now)
        const error = yield* Effect.flip(GoogleChannelVerifier.verify(request, config))
        expect(error.reason, header).toBe("missing_header")
        expect(error.header, header).toBe(header.toLowerCase())
      }

      const badNumber = channelRequest({ "X-Goog-Message-Number": "two" })
      const error = yield* Effect.flip(GoogleChannelVerifier.verify(badNumber, config))
      expect(error.reason).toBe("malformed_header")
      expect(error.header).toBe("x-goog-message-number")
    }),
  )
})
