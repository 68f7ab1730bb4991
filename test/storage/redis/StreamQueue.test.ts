import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { StoreError } from "../../../src/storage/StoreError.ts"
import { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import * as StreamQueueMemory from "../../../src/storage/StreamQueueMemory.ts"
import { implementations } from "./Implementations.ts"

const idOrder = (id: string): [number, number] => {
  const [ms, seq] = id.split("-").map(Number)
  return [ms ?? 0, seq ?? 0]
}

const isAscending = (ids: ReadonlyArray<string>): boolean =>
  ids.every((id, i) => {
    if (i === 0) return true
    const [ms, seq] = idOrder(id)
    const [previousMs, previousSeq] = idOrder(ids[i - 1]!)
    return ms > previousMs || (ms === previousMs && seq > previousSeq)
  })

for (const implementation of implementations) {
  describe(`StreamQueue (${implementation.name})`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, StreamQueue>) =>
      Effect.provide(effect, implementation.streamQueue())

    it.live("delivers appended entries and acks them", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("webhooks", "workers")
          const first = yield* queue.append("webhooks", "one")
          const second = yield* queue.append("webhooks", "two")
          yield* queue.append("webhooks", "three")

          const entries = yield* queue.read("webhooks", "workers", "worker-1", {
            count: 10,
            block: 0,
          })
          assert.deepStrictEqual(
            entries.map((entry) => entry.payload),
            ["one", "two", "three"],
          )
          assert.strictEqual(entries[0]!.id, first)
          assert.deepStrictEqual(
            entries.map((entry) => entry.deliveries),
            [1, 1, 1],
          )
          assert.strictEqual(yield* queue.pending("webhooks", "workers"), 3)

          assert.strictEqual(yield* queue.ack("webhooks", "workers", [first, second]), 2)
          assert.strictEqual(yield* queue.pending("webhooks", "workers"), 1)
          assert.strictEqual(yield* queue.length("webhooks"), 1)
          assert.strictEqual(yield* queue.ack("webhooks", "workers", [first]), 0)
          assert.deepStrictEqual(
            yield* queue.read("webhooks", "workers", "worker-1", { count: 10, block: 0 }),
            [],
          )
        }),
      ),
    )

    it.live("appendMany keeps order and ascending ids", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("events", "workers")
          const payloads = Array.from({ length: 50 }, (_, i) => `event-${i}`)
          const ids = yield* queue.appendMany("events", payloads)
          assert.strictEqual(ids.length, 50)
          assert.isTrue(isAscending(ids))
          assert.deepStrictEqual(yield* queue.appendMany("events", []), [])

          const firstBatch = yield* queue.read("events", "workers", "worker-1", {
            count: 20,
            block: 0,
          })
          const secondBatch = yield* queue.read("events", "workers", "worker-2", {
            count: 100,
            block: 0,
          })
          const delivered = [...firstBatch, ...secondBatch]
          assert.deepStrictEqual(
            delivered.map((entry) => entry.payload),
            payloads,
          )
          assert.deepStrictEqual(
            delivered.map((entry) => entry.id),
            ids,
          )
        }),
      ),
    )

    it.live("group created later sees earlier entries", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.append("late", "before-group")
          yield* queue.ensureGroup("late", "workers")
          yield* queue.ensureGroup("late", "workers")
          const entries = yield* queue.read("late", "workers", "worker-1", { count: 10, block: 0 })
          assert.deepStrictEqual(
            entries.map((entry) => entry.payload),
            ["before-group"],
          )
        }),
      ),
    )

    it.live("blocking read wakes on append", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("wake", "workers")
          const reader = yield* Effect.forkChild(
            queue.read("wake", "workers", "worker-1", { count: 10, block: "20 seconds" }),
          )
          yield* Effect.sleep("50 millis")
          yield* queue.append("wake", "late-entry")
          const entries = yield* Fiber.join(reader)
          assert.deepStrictEqual(
            entries.map((entry) => entry.payload),
            ["late-entry"],
          )
        }),
      ),
    )

    it.live("blocking read returns nothing after block", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("quiet", "workers")
          const entries = yield* queue.read("quiet", "workers", "worker-1", {
            count: 10,
            block: "100 millis",
          })
          assert.deepStrictEqual(entries, [])
        }),
      ),
    )

    it.live("claimStale redelivers idle entries with higher counts", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("retry", "workers")
          const id = yield* queue.append("retry", "payload")
          yield* queue.read("retry", "workers", "crashed", { count: 10, block: 0 })

          const tooEarly = yield* queue.claimStale("retry", "workers", "rescuer", {
            minIdle: "1 minute",
            count: 10,
          })
          assert.deepStrictEqual(tooEarly, [])

          yield* Effect.sleep("100 millis")
          const claimed = yield* queue.claimStale("retry", "workers", "rescuer", {
            minIdle: "50 millis",
            count: 10,
          })
          assert.deepStrictEqual(claimed, [{ id, payload: "payload", deliveries: 2 }])

          yield* Effect.sleep("100 millis")
          const again = yield* queue.claimStale("retry", "workers", "rescuer-2", {
            minIdle: "50 millis",
            count: 10,
          })
          assert.deepStrictEqual(again, [{ id, payload: "payload", deliveries: 3 }])
          assert.strictEqual(yield* queue.pending("retry", "workers"), 1)

          assert.strictEqual(yield* queue.ack("retry", "workers", [id]), 1)
          yield* Effect.sleep("100 millis")
          assert.deepStrictEqual(
            yield* queue.claimStale("retry", "workers", "rescuer", {
              minIdle: "50 millis",
              count: 10,
            }),
            [],
          )
        }),
      ),
    )

    it.live("claimStale skips fresh entries and honours count", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("mixed", "workers")
          yield* queue.appendMany("mixed", ["a", "b", "c"])
          yield* queue.read("mixed", "workers", "crashed", { count: 10, block: 0 })
          yield* Effect.sleep("100 millis")
          yield* queue.append("mixed", "fresh")
          yield* queue.read("mixed", "workers", "alive", { count: 10, block: 0 })

          const claimed = yield* queue.claimStale("mixed", "workers", "rescuer", {
            minIdle: "50 millis",
            count: 2,
          })
          assert.deepStrictEqual(
            claimed.map((entry) => entry.payload),
            ["a", "b"],
          )
          const rest = yield* queue.claimStale("mixed", "workers", "rescuer", {
            minIdle: "50 millis",
            count: 10,
          })
          assert.deepStrictEqual(
            rest.map((entry) => entry.payload),
            ["c"],
          )
        }),
      ),
    )

    it.live("claimStale drops pending entries that were removed", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("removed", "workers")
          const id = yield* queue.append("removed", "payload")
          yield* queue.read("removed", "workers", "crashed", { count: 10, block: 0 })
          assert.strictEqual(yield* queue.remove("removed", [id]), 1)
          yield* Effect.sleep("100 millis")

          const claimed = yield* queue.claimStale("removed", "workers", "rescuer", {
            minIdle: "50 millis",
            count: 10,
          })
          assert.deepStrictEqual(claimed, [])
          assert.strictEqual(yield* queue.pending("removed", "workers"), 0)
        }),
      ),
    )

    it.live("range pages through entries and remove deletes them", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          const ids = yield* queue.appendMany("dead-letter", ["a", "b", "c", "d", "e"])

          const firstPage = yield* queue.range("dead-letter", { count: 2 })
          assert.deepStrictEqual(
            firstPage.map((entry) => entry.payload),
            ["a", "b"],
          )
          const nextPage = yield* queue.range("dead-letter", {
            start: `(${firstPage[1]!.id}`,
            count: 10,
          })
          assert.deepStrictEqual(
            nextPage.map((entry) => entry.payload),
            ["c", "d", "e"],
          )
          const fromId = yield* queue.range("dead-letter", { start: ids[3]!, count: 10 })
          assert.deepStrictEqual(
            fromId.map((entry) => entry.payload),
            ["d", "e"],
          )

          assert.strictEqual(yield* queue.remove("dead-letter", [ids[0]!, ids[2]!, "1-1"]), 2)
          assert.strictEqual(yield* queue.length("dead-letter"), 3)
          const remaining = yield* queue.range("dead-letter", { start: "-", count: 10 })
          assert.deepStrictEqual(
            remaining.map((entry) => entry.payload),
            ["b", "d", "e"],
          )
          assert.deepStrictEqual(yield* queue.range("no-such-stream", { count: 10 }), [])
          assert.strictEqual(yield* queue.length("no-such-stream"), 0)
        }),
      ),
    )

    it.live("read without a group fails as protocol", () =>
      run(
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.append("ungrouped", "payload")
          const error = yield* Effect.flip(
            queue.read("ungrouped", "nobody", "worker-1", { count: 10, block: 0 }),
          )
          assert.instanceOf(error, StoreError)
          assert.strictEqual(error.reason, "protocol")
          assert.strictEqual(error.code, "store_unavailable")
          const pendingError = yield* Effect.flip(queue.pending("ungrouped", "nobody"))
          assert.strictEqual(pendingError.reason, "protocol")
        }),
      ),
    )
  })
}

describe("StreamQueue (in-process bound)", () => {
  it.live("append fails as queue_full at maxEntries", () =>
    Effect.gen(function* () {
      const queue = yield* StreamQueue
      yield* queue.ensureGroup("bounded", "workers")
      yield* queue.appendMany("bounded", ["a", "b", "c"])

      const full = yield* Effect.flip(queue.append("bounded", "d"))
      assert.strictEqual(full.reason, "queue_full")
      assert.strictEqual(full.code, "store_unavailable")
      const fullBatch = yield* Effect.flip(queue.appendMany("bounded", ["d"]))
      assert.strictEqual(fullBatch.reason, "queue_full")
      assert.strictEqual(yield* queue.length("bounded"), 3)

      const [entry] = yield* queue.read("bounded", "workers", "worker-1", { count: 1, block: 0 })
      yield* queue.ack("bounded", "workers", [entry!.id])
      yield* queue.append("bounded", "d")
      assert.strictEqual(yield* queue.length("bounded"), 3)
    }).pipe(Effect.provide(StreamQueueMemory.layer({ maxEntries: 3 }))),
  )

  it.live("append fails as queue_full at maxBytes", () =>
    Effect.gen(function* () {
      const queue = yield* StreamQueue
      yield* queue.append("bytes", "x".repeat(60))
      const full = yield* Effect.flip(queue.append("bytes", "x".repeat(60)))
      assert.strictEqual(full.reason, "queue_full")
      yield* queue.append("bytes", "x".repeat(40))
    }).pipe(Effect.provide(StreamQueueMemory.layer({ maxBytes: 100 }))),
  )
})
