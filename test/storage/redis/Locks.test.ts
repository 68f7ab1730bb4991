import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { LockTimeout } from "../../../src/storage/Locks.ts"
import { implementations } from "./Implementations.ts"

class Boom {
  readonly _tag = "Boom"
}

for (const implementation of implementations) {
  describe(`Locks (${implementation.name})`, () => {
    it.live("admits one holder at a time across two clients", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        let holders = 0
        let maxHolders = 0
        let completed = 0

        const critical = Effect.gen(function* () {
          holders++
          maxHolders = Math.max(maxHolders, holders)
          yield* Effect.sleep("5 millis")
          holders--
          completed++
        })
        yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second)),
          (locks) =>
            locks.withLock("refresh:integration-1", "5 seconds", critical, {
              waitUpTo: "20 seconds",
            }),
          { concurrency: "unbounded" },
        )

        assert.strictEqual(maxHolders, 1)
        assert.strictEqual(completed, 20)
      }),
    )

    it.live("fails with LockTimeout while another holds it", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        const entered = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(
          first.withLock(
            "key",
            "10 seconds",
            Effect.andThen(Deferred.succeed(entered, undefined), Deferred.await(release)),
          ),
        )
        yield* Deferred.await(entered)

        const waited = yield* Effect.flip(
          second.withLock("key", "10 seconds", Effect.void, { waitUpTo: "100 millis" }),
        )
        assert.instanceOf(waited, LockTimeout)
        assert.strictEqual(waited._tag, "LockTimeout")
        const once = yield* Effect.flip(
          second.withLock("key", "10 seconds", Effect.void, { waitUpTo: 0 }),
        )
        assert.strictEqual(once._tag, "LockTimeout")

        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        assert.strictEqual(
          yield* second.withLock("key", "10 seconds", Effect.succeed("acquired"), { waitUpTo: 0 }),
          "acquired",
        )
      }),
    )

    it.live("keeps the lock past its ttl while the holder runs", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        const entered = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(
          first.withLock(
            "slow",
            "300 millis",
            Effect.andThen(Deferred.succeed(entered, undefined), Deferred.await(release)),
          ),
        )
        yield* Deferred.await(entered)
        // Three ttls later the lock would have expired without a refresh.
        yield* Effect.sleep("900 millis")

        const contender = yield* Effect.flip(
          second.withLock("slow", "300 millis", Effect.void, { waitUpTo: 0 }),
        )
        assert.strictEqual(contender._tag, "LockTimeout")

        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        assert.strictEqual(
          yield* second.withLock("slow", "300 millis", Effect.succeed(1), { waitUpTo: 0 }),
          1,
        )
      }),
    )

    it.live("releases the lock when the effect fails", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        const failed = yield* Effect.exit(
          first.withLock("failing", "10 seconds", Effect.fail(new Boom())),
        )
        assert.isTrue(Exit.isFailure(failed))
        assert.strictEqual(
          yield* second.withLock("failing", "10 seconds", Effect.succeed("next"), { waitUpTo: 0 }),
          "next",
        )
      }),
    )

    it.live("releases the lock when the holder is interrupted", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        const entered = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(
          first.withLock(
            "interrupted",
            "10 seconds",
            Effect.andThen(Deferred.succeed(entered, undefined), Effect.never),
          ),
        )
        yield* Deferred.await(entered)
        yield* Fiber.interrupt(holder)
        assert.strictEqual(
          yield* second.withLock("interrupted", "10 seconds", Effect.succeed("next"), {
            waitUpTo: 0,
          }),
          "next",
        )
      }),
    )

    it.live("waiter acquires once the holder releases", () =>
      Effect.gen(function* () {
        const [first, second] = yield* implementation.twoLocks
        const entered = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const order: Array<string> = []
        const holder = yield* Effect.forkChild(
          first.withLock(
            "handoff",
            "10 seconds",
            Effect.gen(function* () {
              yield* Deferred.succeed(entered, undefined)
              yield* Deferred.await(release)
              order.push("holder")
            }),
          ),
        )
        yield* Deferred.await(entered)
        const waiter = yield* Effect.forkChild(
          second.withLock(
            "handoff",
            "10 seconds",
            Effect.sync(() => order.push("waiter")),
            { waitUpTo: "10 seconds" },
          ),
        )
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        yield* Fiber.join(waiter)
        assert.deepStrictEqual(order, ["holder", "waiter"])
      }),
    )
  })
}
