import { createHmac } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import {
  GenericHmacVerifier,
  parseSignedContent,
} from "../../../src/webhooks/verify/GenericHmac.ts"
import type { GenericHmacOptions } from "../../../src/webhooks/verify/Scheme.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const secret = "generic-secret"
const now = 1_700_000_000
const body = '{"event":"thing.created"}'

const digest = (
  algorithm: "sha1" | "sha256" | "sha512",
  encoding: "hex" | "base64",
  content: string,
  key = secret,
) => createHmac(algorithm, key).update(content).digest(encoding)

const configFor = (options: GenericHmacOptions, secrets = [secret]) => ({
  secrets: secrets.map((value) => Redacted.make(value)),
  options,
})

describe("generic HMAC signatures", () => {
  it.effect("verifies a prefixed SHA-1 hex signature", () =>
    Effect.gen(function* () {
      const config = configFor({
        signatureHeader: "X-Signature",
        algorithm: "sha1",
        encoding: "hex",
        prefix: "sha1=",
        idHeader: "X-Delivery",
        eventTypeHeader: "X-Event",
        routingKeyHeader: "X-Account",
      })
      const request = makeRequest(
        {
          "X-Signature": `sha1=${digest("sha1", "hex", body)}`,
          "X-Delivery": "d-1",
          "X-Event": "thing.created",
          "X-Account": "acct-9",
        },
        body,
        now,
      )
      const delivery = yield* GenericHmacVerifier.verify(request, config)

      expect(delivery.deliveryId).toBe("d-1")
      expect(delivery.eventType).toBe("thing.created")
      expect(delivery.routingKey).toBe("acct-9")
      expect(delivery.timestampSeconds).toBeUndefined()
    }),
  )

  it.effect("verifies SHA-512 base64 over a template", () =>
    Effect.gen(function* () {
      const config = configFor({
        signatureHeader: "X-Sig",
        algorithm: "sha512",
        encoding: "base64",
        timestampHeader: "X-Timestamp",
        idHeader: "X-Id",
        signedContent: "{id}:{timestamp}:{body}",
      })
      const content = `d-2:${now}:${body}`
      const headers = { "X-Sig": digest("sha512", "base64", content), "X-Id": "d-2" }
      const request = makeRequest({ ...headers, "X-Timestamp": String(now) }, body, now)
      const delivery = yield* GenericHmacVerifier.verify(request, config)
      expect(delivery.timestampSeconds).toBe(now)

      const changedId = makeRequest(
        { ...headers, "X-Id": "d-3", "X-Timestamp": String(now) },
        body,
        now,
      )
      const error = yield* Effect.flip(GenericHmacVerifier.verify(changedId, config))
      expect(error.code).toBe("signature_mismatch")

      const withoutId = makeRequest(
        { "X-Sig": headers["X-Sig"], "X-Timestamp": `${now}` },
        body,
        now,
      )
      const missing = yield* Effect.flip(GenericHmacVerifier.verify(withoutId, config))
      expect(missing.reason).toBe("missing_header")
      expect(missing.header).toBe("x-id")
    }),
  )

  it.effect("checks the configured tolerance before the signature", () =>
    Effect.gen(function* () {
      const config = configFor({
        signatureHeader: "X-Sig",
        algorithm: "sha256",
        encoding: "hex",
        timestampHeader: "X-Timestamp",
        toleranceSeconds: 60,
      })
      for (const [timestamp, reason] of [
        [now - 61, "timestamp_too_old"],
        [now + 61, "timestamp_in_future"],
      ] as const) {
        const request = makeRequest(
          { "X-Sig": "not-a-signature", "X-Timestamp": String(timestamp) },
          body,
          now,
        )
        const error = yield* Effect.flip(GenericHmacVerifier.verify(request, config))
        expect(error.reason).toBe(reason)
        expect(error.skewSeconds).toBe(now - timestamp)
      }

      const nonNumeric = makeRequest({ "X-Sig": "x", "X-Timestamp": "soon" }, body, now)
      const error = yield* Effect.flip(GenericHmacVerifier.verify(nonNumeric, config))
      expect(error.reason).toBe("malformed_header")
      expect(error.header).toBe("x-timestamp")
    }),
  )

  it.effect("accepts any of several separated signatures", () =>
    Effect.gen(function* () {
      const config = configFor({
        signatureHeader: "X-Sig",
        algorithm: "sha256",
        encoding: "hex",
        prefix: "v1=",
        signatureSeparator: ",",
      })
      const own = digest("sha256", "hex", body)
      const other = digest("sha256", "hex", body, "someone-else")
      const request = makeRequest({ "X-Sig": `v1=${other}, v0=zz,v1=${own}` }, body, now)
      yield* GenericHmacVerifier.verify(request, config)
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const options: GenericHmacOptions = {
        signatureHeader: "X-Sig",
        algorithm: "sha256",
        encoding: "base64",
      }
      const config = configFor(options, ["generic-old", "generic-new"])
      for (const key of ["generic-old", "generic-new"]) {
        const request = makeRequest({ "X-Sig": digest("sha256", "base64", body, key) }, body, now)
        yield* GenericHmacVerifier.verify(request, config)
      }

      const foreign = makeRequest({ "X-Sig": digest("sha256", "base64", body) }, body, now)
      const error = yield* Effect.flip(GenericHmacVerifier.verify(foreign, config))
      expect(error.code).toBe("signature_mismatch")
      expectNoLeak(error, ["generic-old", "generic-new"])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const config = configFor({
        signatureHeader: "X-Sig",
        algorithm: "sha256",
        encoding: "hex",
        prefix: "sha256=",
      })
      const valid = digest("sha256", "hex", body)
      for (const [signature, reason] of [
        ["garbage", "malformed_header"],
        ["", "malformed_header"],
        [`sha256=${valid.slice(0, 10)}`, "signature_mismatch"],
        [`sha256=${Buffer.from(valid, "hex").toString("base64")}`, "signature_mismatch"],
        [`sha256=${valid}${"0".repeat(9000)}`, "malformed_header"],
      ] as const) {
        const request = makeRequest({ "X-Sig": signature }, body, now)
        const error = yield* Effect.flip(GenericHmacVerifier.verify(request, config))
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }
    }),
  )

  it("parses signed-content templates", () => {
    expect(parseSignedContent("{timestamp}.{body}")).toEqual([
      { kind: "timestamp" },
      { kind: "text", text: "." },
      { kind: "body" },
    ])
    expect(parseSignedContent("v0:{timestamp}:{body}")?.[0]).toEqual({ kind: "text", text: "v0:" })
    expect(parseSignedContent("{timestamp}")).toBeUndefined()
    expect(parseSignedContent("{body}{body}")).toBeUndefined()
    expect(parseSignedContent("{nonce}.{body}")).toBeUndefined()
  })
})
