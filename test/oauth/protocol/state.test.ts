import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Base64Url } from "effect/encoding"
import { generateState, isWellFormedState } from "../../../src/oauth/protocol/State.ts"
import { CryptoLive } from "./clients.ts"

describe("State", () => {
  it.effect("encodes 256 random bits as base64url", () =>
    Effect.gen(function* () {
      const state = yield* generateState
      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const bytes = Base64Url.decode(state)
      expect(bytes._tag).toBe("Success")
      if (bytes._tag === "Success") expect(bytes.success).toHaveLength(32)
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("differs on every call", () =>
    Effect.gen(function* () {
      const states = new Set<string>()
      for (let i = 0; i < 100; i++) states.add(yield* generateState)
      expect(states.size).toBe(100)
    }).pipe(Effect.provide(CryptoLive)),
  )

  it.effect("recognizes a generated state and rejects junk", () =>
    Effect.gen(function* () {
      expect(isWellFormedState(yield* generateState)).toBe(true)
      expect(isWellFormedState("")).toBe(false)
      expect(isWellFormedState("short")).toBe(false)
      expect(isWellFormedState(`${"a".repeat(42)}=`)).toBe(false)
      expect(isWellFormedState(`${"a".repeat(42)}/`)).toBe(false)
    }).pipe(Effect.provide(CryptoLive)),
  )
})
