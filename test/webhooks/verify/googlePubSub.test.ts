import { afterAll, describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose"
import { GooglePubSubVerifier } from "../../../src/webhooks/verify/GooglePubSub.ts"
import type { GooglePubSubOptions } from "../../../src/webhooks/verify/Scheme.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const now = 1_700_000_000
const audience = "https://hooks.example.com/pubsub"
const email = "push@project.iam.gserviceaccount.com"

const signingKeys = await generateKeyPair("RS256", { extractable: true })
const foreignKeys = await generateKeyPair("RS256", { extractable: true })
const publicJwk = { ...(await exportJWK(signingKeys.publicKey)), kid: "k1", alg: "RS256" }
const jwks = { keys: [publicJwk] }

// A key set server on loopback, as a stand-in for Google's certificate URL.
const jwksServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => Response.json(jwks),
})
afterAll(() => jwksServer.stop(true))

const localConfig = { secrets: [], options: { audience, email, jwks } }

const validClaims: JWTPayload = {
  iss: "https://accounts.google.com",
  aud: audience,
  email,
  email_verified: true,
  sub: "113",
  iat: now - 60,
  exp: now + 3540,
}

const body = JSON.stringify({
  message: { data: "aGVsbG8=", messageId: "1", message_id: "1" },
  subscription: "projects/p/subscriptions/s",
})

const signToken = (claims: JWTPayload, privateKey = signingKeys.privateKey) =>
  Effect.promise(() =>
    new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(privateKey),
  )

const pushRequest = (token: string) => makeRequest({ Authorization: `Bearer ${token}` }, body, now)

const rejectionFor = (claims: JWTPayload, privateKey = signingKeys.privateKey) =>
  Effect.gen(function* () {
    const token = yield* signToken(claims, privateKey)
    const error = yield* Effect.flip(GooglePubSubVerifier.verify(pushRequest(token), localConfig))
    expect(error.code).toBe("invalid_token")
    expect(error.httpStatus).toBe(401)
    expectNoLeak(error, [token])
    return error
  })

describe("Google Pub/Sub push tokens", () => {
  it.effect("accepts a valid token and reads the message id", () =>
    Effect.gen(function* () {
      const token = yield* signToken(validClaims)
      const delivery = yield* GooglePubSubVerifier.verify(pushRequest(token), localConfig)

      expect(delivery.deliveryId).toBe("1")
      expect(delivery.routingKey).toBe("projects/p/subscriptions/s")
      expect(delivery.handshake).toBeUndefined()
    }),
  )

  it.effect("accepts both forms of the Google issuer", () =>
    Effect.gen(function* () {
      const token = yield* signToken({ ...validClaims, iss: "accounts.google.com" })
      yield* GooglePubSubVerifier.verify(pushRequest(token), localConfig)
    }),
  )

  it.effect("fetches the key set from a loopback URL", () =>
    Effect.gen(function* () {
      const options: GooglePubSubOptions = { audience, email, jwks: jwksServer.url.href }
      const token = yield* signToken(validClaims)
      const delivery = yield* GooglePubSubVerifier.verify(pushRequest(token), {
        secrets: [],
        options,
      })
      expect(delivery.deliveryId).toBe("1")
    }),
  )

  it.effect("rejects a wrong audience", () =>
    Effect.gen(function* () {
      const error = yield* rejectionFor({ ...validClaims, aud: "https://elsewhere.example" })
      expect(error.reason).toBe("audience_mismatch")
    }),
  )

  it.effect("rejects a wrong service account email", () =>
    Effect.gen(function* () {
      const error = yield* rejectionFor({ ...validClaims, email: "other@example.com" })
      expect(error.reason).toBe("email_mismatch")
    }),
  )

  it.effect("rejects an unverified email", () =>
    Effect.gen(function* () {
      const unverified = yield* rejectionFor({ ...validClaims, email_verified: false })
      expect(unverified.reason).toBe("email_unverified")

      const text = yield* rejectionFor({ ...validClaims, email_verified: "true" })
      expect(text.reason).toBe("email_unverified")
    }),
  )

  it.effect("rejects a foreign issuer", () =>
    Effect.gen(function* () {
      const error = yield* rejectionFor({ ...validClaims, iss: "https://evil.example" })
      expect(error.reason).toBe("issuer_mismatch")
    }),
  )

  it.effect("rejects an expired token beyond the leeway", () =>
    Effect.gen(function* () {
      const error = yield* rejectionFor({ ...validClaims, iat: now - 3700, exp: now - 31 })
      expect(error.reason).toBe("token_expired")

      const withinLeeway = yield* signToken({ ...validClaims, iat: now - 3610, exp: now - 10 })
      yield* GooglePubSubVerifier.verify(pushRequest(withinLeeway), localConfig)
    }),
  )

  it.effect("rejects a token without exp", () =>
    Effect.gen(function* () {
      const { exp: _, ...claims } = validClaims
      const error = yield* rejectionFor(claims)
      expect(error.reason).toBe("token_claim_invalid")
    }),
  )

  it.effect("rejects a token signed by another key", () =>
    Effect.gen(function* () {
      const error = yield* rejectionFor(validClaims, foreignKeys.privateKey)
      expect(error.reason).toBe("token_signature_invalid")
    }),
  )

  it.effect("rejects a symmetric algorithm", () =>
    Effect.gen(function* () {
      const key = new TextEncoder().encode("a-shared-secret-of-enough-length!")
      const token = yield* Effect.promise(() =>
        new SignJWT(validClaims).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(key),
      )
      const error = yield* Effect.flip(GooglePubSubVerifier.verify(pushRequest(token), localConfig))
      expect(error.reason).toBe("token_signature_invalid")
    }),
  )

  it.effect("rejects missing and malformed authorization headers", () =>
    Effect.gen(function* () {
      const missing = makeRequest({}, body, now)
      const missingError = yield* Effect.flip(GooglePubSubVerifier.verify(missing, localConfig))
      expect(missingError.reason).toBe("missing_header")
      expect(missingError.header).toBe("authorization")

      for (const [authorization, reason] of [
        ["Basic dXNlcjpwYXNz", "malformed_header"],
        ["Bearer", "malformed_header"],
        ["Bearer a b", "malformed_header"],
        ["Bearer not-a-jwt", "token_malformed"],
        ["Bearer aaa.bbb.ccc", "token_malformed"],
        [`Bearer ${"a".repeat(9000)}`, "malformed_header"],
      ] as const) {
        const request = makeRequest({ Authorization: authorization }, body, now)
        const error = yield* Effect.flip(GooglePubSubVerifier.verify(request, localConfig))
        expect(error.reason, authorization.slice(0, 20)).toBe(reason)
      }
    }),
  )

  it.effect("rejects a verified body without a message id", () =>
    Effect.gen(function* () {
      const token = yield* signToken(validClaims)
      const request = makeRequest({ Authorization: `Bearer ${token}` }, '{"message":{}}', now)
      const error = yield* Effect.flip(GooglePubSubVerifier.verify(request, localConfig))
      expect(error.code).toBe("malformed_body")
    }),
  )

  it.effect("fails with a defect when the key set cannot be fetched", () =>
    Effect.gen(function* () {
      const stopped = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
      const url = stopped.url.href
      yield* Effect.promise(() => stopped.stop(true))

      const token = yield* signToken(validClaims)
      const options: GooglePubSubOptions = { audience, email, jwks: url }
      const exit = yield* Effect.exit(
        GooglePubSubVerifier.verify(pushRequest(token), { secrets: [], options }),
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(Cause.hasDies(exit.cause)).toBe(true)
    }),
  )
})
