import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { KeyValue } from "../../../src/storage/KeyValue.ts"
import * as KeyValueMemory from "../../../src/storage/KeyValueMemory.ts"
import { implementations } from "./Implementations.ts"

for (const implementation of implementations) {
  describe(`KeyValue (${implementation.name})`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, KeyValue>) =>
      Effect.provide(effect, implementation.keyValue())

    it.live("setIfAbsent admits one of 100 claims", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          const claims = yield* Effect.forEach(
            Array.from({ length: 100 }, (_, i) => `worker-${i}`),
            (worker) => kv.setIfAbsent("delivery:abc", worker, "1 minute"),
            { concurrency: "unbounded" },
          )
          assert.strictEqual(claims.filter((won) => won).length, 1)
          const winner = claims.indexOf(true)
          assert.deepStrictEqual(yield* kv.get("delivery:abc"), Option.some(`worker-${winner}`))
        }),
      ),
    )

    it.live("take returns the value to one of 100 callers", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          yield* kv.set("state:xyz", "verifier", "1 minute")
          const takes = yield* Effect.forEach(
            Array.from({ length: 100 }),
            () => kv.take("state:xyz"),
            { concurrency: "unbounded" },
          )
          const taken = takes.filter(Option.isSome)
          assert.strictEqual(taken.length, 1)
          assert.deepStrictEqual(taken[0], Option.some("verifier"))
          assert.isTrue(Option.isNone(yield* kv.get("state:xyz")))
        }),
      ),
    )

    it.live("take of a missing key returns none", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          assert.isTrue(Option.isNone(yield* kv.take("missing")))
        }),
      ),
    )

    it.live("expired key is gone and claimable again", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          assert.isTrue(yield* kv.setIfAbsent("short", "first", "50 millis"))
          assert.isFalse(yield* kv.setIfAbsent("short", "second", "50 millis"))
          yield* Effect.sleep("150 millis")
          assert.isTrue(Option.isNone(yield* kv.get("short")))
          assert.isTrue(Option.isNone(yield* kv.take("short")))
          assert.isTrue(yield* kv.setIfAbsent("short", "third", "1 minute"))
          assert.deepStrictEqual(yield* kv.get("short"), Option.some("third"))
        }),
      ),
    )

    it.live("set replaces the value and its ttl", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          yield* kv.set("key", "old", "50 millis")
          yield* kv.set("key", "new", "1 minute")
          yield* Effect.sleep("150 millis")
          assert.deepStrictEqual(yield* kv.get("key"), Option.some("new"))
        }),
      ),
    )

    it.live("delete reports whether the key existed", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          yield* kv.set("key", "value", "1 minute")
          assert.isTrue(yield* kv.delete("key"))
          assert.isFalse(yield* kv.delete("key"))
          assert.isTrue(Option.isNone(yield* kv.get("key")))
        }),
      ),
    )

    it.live("infinite ttl keeps the key", () =>
      run(
        Effect.gen(function* () {
          const kv = yield* KeyValue
          assert.isTrue(yield* kv.setIfAbsent("forever", "value", "Infinity"))
          assert.deepStrictEqual(yield* kv.get("forever"), Option.some("value"))
          assert.isTrue(yield* kv.delete("forever"))
        }),
      ),
    )
  })
}

describe("KeyValue (in-process bound)", () => {
  it.live("full store evicts the oldest key", () =>
    Effect.gen(function* () {
      const kv = yield* KeyValue
      for (const key of ["a", "b", "c", "d"]) yield* kv.set(key, key, "1 minute")
      assert.isTrue(Option.isNone(yield* kv.get("a")))
      assert.deepStrictEqual(yield* kv.get("b"), Option.some("b"))
      assert.deepStrictEqual(yield* kv.get("d"), Option.some("d"))
    }).pipe(Effect.provide(KeyValueMemory.layer({ maxEntries: 3 }))),
  )

  it.live("sweep frees expired keys", () =>
    Effect.gen(function* () {
      const kv = yield* KeyValue
      yield* kv.set("kept", "value", "1 minute")
      yield* kv.set("gone", "value", "10 millis")
      yield* Effect.sleep("100 millis")
      // The sweep removed "gone", so the store, bounded at two keys, has room
      // for "new" without evicting "kept", its oldest key.
      yield* kv.set("new", "value", "1 minute")
      assert.deepStrictEqual(yield* kv.get("kept"), Option.some("value"))
      assert.deepStrictEqual(yield* kv.get("new"), Option.some("value"))
    }).pipe(Effect.provide(KeyValueMemory.layer({ maxEntries: 2, sweepInterval: "20 millis" }))),
  )
})
