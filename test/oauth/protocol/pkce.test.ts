import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import {
  computeCodeChallenge,
  generateCodeVerifier,
  generatePkce,
  isCodeVerifier,
} from "../../../src/oauth/protocol/Pkce.ts"
import { CryptoLive } from "./clients.ts"

describe("Pkce", () => {
  it.effect("computes the RFC 7636 Appendix B challenge", () =>
    Effect.gen(function* () {
      const verifier = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
      const challenge = yield* computeCodeChallenge(verifier)
      expect(challenge).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("generates a 43-character base64url verifier", () =>
    Effect.gen(function* () {
      const verifier = Redacted.value(yield* generateCodeVerifier())
      expect(verifier).toHaveLength(43)
      expect(verifier).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(isCodeVerifier(verifier)).toBe(true)
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("generates a 128-character verifier from 96 bytes", () =>
    Effect.gen(function* () {
      const verifier = Redacted.value(yield* generateCodeVerifier(96))
      expect(verifier).toHaveLength(128)
      expect(isCodeVerifier(verifier)).toBe(true)
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("rejects fewer than 32 random bytes", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(generateCodeVerifier(31))
      expect(Exit.hasDies(exit)).toBe(true)
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("generates a fresh verifier each time", () =>
    Effect.gen(function* () {
      const first = yield* generatePkce
      const second = yield* generatePkce
      expect(Redacted.value(first.codeVerifier)).not.toBe(Redacted.value(second.codeVerifier))
      expect(first.codeChallengeMethod).toBe("S256")
      expect(first.codeChallenge).toBe(yield* computeCodeChallenge(first.codeVerifier))
    }).pipe(Effect.provide(CryptoLive)),
  )

  it("hides the verifier in string and JSON output", () => {
    const verifier = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    expect(String(verifier)).not.toContain("dBjft")
    expect(JSON.stringify({ verifier })).not.toContain("dBjft")
  })

  it("checks the verifier syntax of RFC 7636", () => {
    expect(isCodeVerifier("a".repeat(42))).toBe(false)
    expect(isCodeVerifier("a".repeat(43))).toBe(true)
    expect(isCodeVerifier("a".repeat(128))).toBe(true)
    expect(isCodeVerifier("a".repeat(129))).toBe(false)
    expect(isCodeVerifier(`${"a".repeat(42)}+`)).toBe(false)
    expect(isCodeVerifier(`${"a".repeat(40)}-._~`)).toBe(true)
  })
})
