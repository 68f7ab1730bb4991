import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { validateSchemeConfig } from "../../../src/webhooks/verify/SchemeConfig.ts"

const secret = (value: string) => Redacted.make(value)
const jwks = { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", kid: "k1" }] }
const pubsub = {
  audience: "https://hooks.example.com",
  email: "push@p.iam.gserviceaccount.com",
  jwks,
}

const rejection = (scheme: string, options: unknown, secrets = [secret("s")]) =>
  Effect.flip(validateSchemeConfig(scheme, options, secrets))

describe("webhook scheme configuration", () => {
  it.effect("accepts a valid configuration of every scheme", () =>
    Effect.gen(function* () {
      const valid: ReadonlyArray<readonly [string, unknown, ReadonlyArray<string>]> = [
        ["slack", { toleranceSeconds: 600 }, ["s"]],
        ["github", undefined, ["old", "new"]],
        ["stripe", {}, ["whsec_x"]],
        ["standard-webhooks", {}, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]],
        ["shopify", {}, ["s"]],
        ["zoom", {}, ["s"]],
        ["google", { channels: [{ id: "ch1", token: secret("t"), resourceId: "r1" }] }, []],
        ["google", { findChannel: () => Effect.succeed(undefined) }, []],
        ["google-pubsub", pubsub, []],
        ["google-pubsub", { ...pubsub, jwks: "https://www.googleapis.com/oauth2/v3/certs" }, []],
        ["google-pubsub", { ...pubsub, jwks: "http://127.0.0.1:8080/certs" }, []],
        ["google-pubsub", { ...pubsub, jwks: "http://[::1]:8080/certs" }, []],
        [
          "generic-hmac",
          {
            signatureHeader: "X-Signature",
            algorithm: "sha512",
            encoding: "base64",
            prefix: "v1=",
            signatureSeparator: " ",
            timestampHeader: "X-Timestamp",
            idHeader: "X-Id",
            signedContent: "{id}.{timestamp}.{body}",
          },
          ["s"],
        ],
      ]
      for (const [scheme, options, secrets] of valid) {
        const config = yield* validateSchemeConfig(scheme, options, secrets.map(secret))
        expect(config.scheme).toBe(scheme)
      }
    }),
  )

  it.effect("rejects a standard-webhooks secret without whsec_ or base64", () =>
    Effect.gen(function* () {
      for (const value of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_"]) {
        const error = yield* rejection("standard-webhooks", {}, [secret(value)])
        expect(error.code).toBe("invalid_webhook_config")
        expect(error.reason).toBe("invalid_secret")
        expect(error.field).toBe("secrets[0]")
        expect(String(error)).not.toContain(value)
      }
    }),
  )

  it.effect("rejects missing, surplus and unredacted secrets", () =>
    Effect.gen(function* () {
      const none = yield* rejection("github", {}, [])
      expect(none.reason).toBe("missing_secret")

      const three = yield* rejection("github", {}, [secret("a"), secret("b"), secret("c")])
      expect(three.reason).toBe("too_many_secrets")

      const plain = yield* rejection("github", {}, [
        "plain" as unknown as Redacted.Redacted<string>,
      ])
      expect(plain.field).toBe("secrets[0]")

      const empty = yield* rejection("slack", {}, [secret("")])
      expect(empty.reason).toBe("invalid_secret")
    }),
  )

  it.effect("rejects an invalid generic-hmac header name", () =>
    Effect.gen(function* () {
      const base = { signatureHeader: "X-Sig", algorithm: "sha256", encoding: "hex" }
      for (const [field, value] of [
        ["signatureHeader", "X Sig"],
        ["signatureHeader", "X-Sig:"],
        ["timestampHeader", ""],
        ["idHeader", "X-Id\n"],
      ] as const) {
        const error = yield* rejection("generic-hmac", { ...base, [field]: value })
        expect(error.reason, `${field}=${value}`).toBe("invalid_option")
        expect(error.field, `${field}=${value}`).toBe(`options.${field}`)
      }
    }),
  )

  it.effect("rejects invalid generic-hmac algorithms, encodings and templates", () =>
    Effect.gen(function* () {
      const base = { signatureHeader: "X-Sig", algorithm: "sha256", encoding: "hex" }
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ algorithm: "md5" }, "options.algorithm"],
        [{ encoding: "base32" }, "options.encoding"],
        [{ signedContent: "{timestamp}.{body}" }, "options.signedContent"],
        [{ timestampHeader: "X-Ts", signedContent: "{body}" }, "options.signedContent"],
        [{ signedContent: "{id}.{body}" }, "options.signedContent"],
        [{ signedContent: "{body}.{nonce}" }, "options.signedContent"],
        [{ prefix: "v1,", signatureSeparator: "," }, "options.prefix"],
        [{ toleranceSeconds: 0 }, "options.toleranceSeconds"],
        [{ toleranceSeconds: 1.5 }, "options.toleranceSeconds"],
      ]
      for (const [override, field] of cases) {
        const error = yield* rejection("generic-hmac", { ...base, ...override })
        expect(error.field, JSON.stringify(override)).toBe(field)
      }

      const missing = yield* rejection("generic-hmac", { algorithm: "sha256", encoding: "hex" })
      expect(missing.reason).toBe("missing_option")
      expect(missing.field).toBe("options.signatureHeader")
    }),
  )

  it.effect("requires the Pub/Sub audience, email and key set", () =>
    Effect.gen(function* () {
      for (const field of ["audience", "email", "jwks"] as const) {
        const { [field]: _, ...options } = pubsub
        const error = yield* rejection("google-pubsub", options, [])
        expect(error.reason, field).toBe("missing_option")
        expect(error.field, field).toBe(`options.${field}`)
      }

      for (const url of ["http://hooks.example.com/certs", "https://u:p@example.com/", "ftp://x"]) {
        const error = yield* rejection("google-pubsub", { ...pubsub, jwks: url }, [])
        expect(error.field, url).toBe("options.jwks")
      }

      const privateKey = { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", d: "AQAB" }] }
      const error = yield* rejection("google-pubsub", { ...pubsub, jwks: privateKey }, [])
      expect(error.field).toBe("options.jwks")

      const hs = yield* rejection("google-pubsub", { ...pubsub, algorithms: ["HS256"] }, [])
      expect(hs.field).toBe("options.algorithms")
    }),
  )

  it.effect("requires exactly one source of Google channels", () =>
    Effect.gen(function* () {
      const none = yield* rejection("google", {}, [])
      expect(none.reason).toBe("missing_option")

      const channels = [{ id: "ch1", token: secret("t") }]
      const both = yield* rejection(
        "google",
        { channels, findChannel: () => Effect.succeed(undefined) },
        [],
      )
      expect(both.reason).toBe("invalid_option")

      const duplicate = yield* rejection("google", { channels: [...channels, ...channels] }, [])
      expect(duplicate.field).toBe("options.channels")

      const plainToken = yield* rejection("google", { channels: [{ id: "ch1", token: "t" }] }, [])
      expect(plainToken.field).toBe("options.channels")
    }),
  )

  it.effect("rejects unknown schemes and options", () =>
    Effect.gen(function* () {
      const scheme = yield* rejection("svix", {})
      expect(scheme.reason).toBe("unknown_scheme")
      expect(scheme.message).toContain("standard-webhooks")

      const option = yield* rejection("slack", { toleranceSecond: 10 })
      expect(option.reason).toBe("unknown_option")
      expect(option.field).toBe("options.toleranceSecond")
      expect(option.message).toContain("toleranceSeconds")

      const notObject = yield* rejection("slack", "300")
      expect(notObject.field).toBe("options")
    }),
  )
})
