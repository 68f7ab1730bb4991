/**
 * Pending authorizations in `KeyValue`: single use, 10-minute lifetime,
 * and no usable value stored under the state itself. Runs on the in-process
 * store and on Redis, with the test clock driving the lifetime.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import { TokenCipher } from "../../src/crypto/TokenCipher.ts"
import { OAuthStates, type PendingAuthorization } from "../../src/oauth/OAuthStates.ts"
import { generateState } from "../../src/oauth/protocol/State.ts"
import { KeyValue } from "../../src/storage/KeyValue.ts"
import * as KeyValueMemory from "../../src/storage/KeyValueMemory.ts"
import * as KeyValueRedis from "../../src/storage/KeyValueRedis.ts"
import * as RedisConnection from "../../src/storage/RedisConnection.ts"
import { type StoreMode, storeModes, testRedisUrl } from "../support/StoreModes.ts"
import { TEST_KEY_RING } from "../support/TestApp.ts"

const keyValueLayer = (mode: StoreMode) =>
  mode === "servers" && testRedisUrl
    ? KeyValueRedis.layer().pipe(
        Layer.provide(RedisConnection.layer({ url: Redacted.make(testRedisUrl) })),
      )
    : KeyValueMemory.layer()

const statesLayer = (mode: StoreMode) =>
  OAuthStates.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        keyValueLayer(mode),
        TokenCipher.layerFromValue(Redacted.make(TEST_KEY_RING)),
        SecureRandom.layerWebCrypto,
      ),
    ),
  )

const pending = (expiresAt: number): PendingAuthorization => ({
  sessionId: crypto.randomUUID(),
  organizationId: "org-1",
  providerKey: "provider-1",
  redirectUrl: "http://app.test/connected",
  callbackUrl: "http://127.0.0.1:1/oauth/callback",
  scopes: ["read"],
  metadata: {},
  codeVerifier: Redacted.make("v".repeat(43)),
  expiresAt,
})

const consumeError = (state: string | undefined) =>
  Effect.flatMap(OAuthStates, (states) => Effect.flip(states.consume(state)))

describe.each(storeModes)("OAuthStates (%s stores)", (mode) => {
  it.effect("consumes a state once", () =>
    Effect.gen(function* () {
      const states = yield* OAuthStates
      const state = yield* generateState
      yield* states.save(state, pending(10 * 60 * 1000))

      const first = yield* states.consume(state)
      expect(first.organizationId).toBe("org-1")
      expect(first.codeVerifier && Redacted.value(first.codeVerifier)).toBe("v".repeat(43))
      const second = yield* consumeError(state)
      expect(second.reason).toBe("unknown")
      expect(second.code).toBe("invalid_state")
    }).pipe(Effect.provide(statesLayer(mode))),
  )

  it.effect("rejects a state after 10 minutes", () =>
    Effect.gen(function* () {
      const states = yield* OAuthStates
      const state = yield* generateState
      yield* states.save(state, pending(10 * 60 * 1000))
      yield* TestClock.adjust("10 minutes")
      yield* TestClock.adjust("1 second")

      const error = yield* consumeError(state)
      expect(error.reason).toBe("expired")
      expect(error.code).toBe("state_expired")
      // Consumed even though it expired.
      expect((yield* consumeError(state)).reason).toBe("unknown")
    }).pipe(Effect.provide(statesLayer(mode))),
  )

  it.effect("stores no value under the state", () =>
    Effect.gen(function* () {
      const states = yield* OAuthStates
      const keyValue = yield* KeyValue
      const state = yield* generateState
      yield* states.save(state, pending(10 * 60 * 1000))
      expect(Option.isNone(yield* keyValue.get(`oauth:state:${state}`))).toBe(true)
    }).pipe(Effect.provide(statesLayer(mode))),
  )

  it.effect("rejects missing and malformed states", () =>
    Effect.gen(function* () {
      expect((yield* consumeError(undefined)).reason).toBe("missing")
      expect((yield* consumeError("")).reason).toBe("missing")
      expect((yield* consumeError("abc")).reason).toBe("malformed")
      expect((yield* consumeError(`${"A".repeat(42)}!`)).reason).toBe("malformed")
    }).pipe(Effect.provide(statesLayer(mode))),
  )
})
