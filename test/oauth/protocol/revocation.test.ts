import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { classifyRevocationResponse } from "../../../src/oauth/protocol/Revocation.ts"
import { clientFor, jsonResponse } from "./clients.ts"

const generic = clientFor("oauth2", {
  authorization_url: "https://auth.example.com/authorize",
  token_url: "https://auth.example.com/token",
  revocation_url: "https://auth.example.com/revoke",
})

const empty = (status: number, retryAfter?: string) => ({
  status,
  contentType: undefined,
  body: "",
  retryAfter,
})

describe("classifyRevocationResponse", () => {
  it.effect("counts 200 as revoked", () =>
    Effect.gen(function* () {
      const client = yield* generic
      expect(classifyRevocationResponse(client, empty(200))._tag).toBe("Revoked")
      expect(classifyRevocationResponse(client, empty(204))._tag).toBe("Revoked")
    }),
  )

  it.effect("counts 400 invalid_token as already revoked", () =>
    Effect.gen(function* () {
      const client = yield* generic
      const outcome = classifyRevocationResponse(
        client,
        jsonResponse(400, { error: "invalid_token" }),
      )
      expect(outcome).toEqual({ _tag: "AlreadyRevoked", status: 400, error: "invalid_token" })
    }),
  )

  it.effect("retries a 503 later", () =>
    Effect.gen(function* () {
      const client = yield* generic
      const outcome = classifyRevocationResponse(client, empty(503, "120"))
      expect(outcome).toEqual({ _tag: "RetryLater", status: 503, retryAfterSeconds: 120 })
    }),
  )

  it.effect("retries a 429 later", () =>
    Effect.gen(function* () {
      const client = yield* generic
      expect(classifyRevocationResponse(client, empty(429))._tag).toBe("RetryLater")
    }),
  )

  it.effect("classifies a half-failed disconnect per token", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("google")
      const accessToken = classifyRevocationResponse(
        client,
        jsonResponse(400, { error: "invalid_token" }),
      )
      const refreshToken = classifyRevocationResponse(client, empty(503))
      expect(accessToken._tag).toBe("AlreadyRevoked")
      expect(refreshToken._tag).toBe("RetryLater")
    }),
  )

  it.effect("fails other client errors", () =>
    Effect.gen(function* () {
      const client = yield* generic
      const unsupported = classifyRevocationResponse(
        client,
        jsonResponse(400, { error: "unsupported_token_type" }),
      )
      expect(unsupported).toEqual({ _tag: "Failed", status: 400, error: "unsupported_token_type" })
      expect(classifyRevocationResponse(client, empty(401))._tag).toBe("Failed")
      expect(classifyRevocationResponse(client, empty(302))._tag).toBe("Failed")
    }),
  )

  it.effect("counts a template-listed status as already revoked", () =>
    Effect.gen(function* () {
      const github = yield* clientFor("github")
      expect(classifyRevocationResponse(github, empty(404))._tag).toBe("AlreadyRevoked")
      const shopify = yield* clientFor("shopify", {}, { shop: "demo.myshopify.com" })
      const outcome = classifyRevocationResponse(
        shopify,
        jsonResponse(401, { errors: "Invalid API key" }),
      )
      expect(outcome._tag).toBe("AlreadyRevoked")
    }),
  )

  it.effect("reads slack's 200 ok:false revocation errors", () =>
    Effect.gen(function* () {
      const slack = yield* clientFor("slack")
      const revoked = classifyRevocationResponse(
        slack,
        jsonResponse(200, { ok: true, revoked: true }),
      )
      expect(revoked._tag).toBe("Revoked")
      const invalidAuth = classifyRevocationResponse(
        slack,
        jsonResponse(200, { ok: false, error: "invalid_auth" }),
      )
      expect(invalidAuth).toEqual({ _tag: "AlreadyRevoked", status: 200, error: "invalid_auth" })
      const other = classifyRevocationResponse(
        slack,
        jsonResponse(200, { ok: false, error: "ratelimited" }),
      )
      expect(other._tag).toBe("Failed")
    }),
  )

  it.effect("uses RFC 7009 defaults without revocation settings", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("microsoft")
      const outcome = classifyRevocationResponse(
        client,
        jsonResponse(400, { error: "invalid_token" }),
      )
      expect(outcome._tag).toBe("AlreadyRevoked")
    }),
  )
})
