import { appendFileSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import * as StreamQueueMemory from "../../../src/storage/StreamQueueMemory.ts"
import { makeTempDir } from "./Implementations.ts"

/** Runs `effect` on a queue journaled under `dataDir`, closing it afterwards like a restart. */
const withQueue = <A, E>(dataDir: string, effect: Effect.Effect<A, E, StreamQueue>) =>
  Effect.scoped(
    Effect.flatMap(Layer.build(StreamQueueMemory.layer({ dataDir })), (context) =>
      Effect.provide(effect, context),
    ),
  )

describe("StreamQueue journal", () => {
  it.live("restores entries, groups and delivery counts", () =>
    Effect.gen(function* () {
      const dataDir = yield* makeTempDir("stream-journal")
      const ids = yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("webhooks", "workers")
          const ids = yield* queue.appendMany("webhooks", ["a", "b", "c", "d"])
          yield* queue.read("webhooks", "workers", "worker-1", { count: 2, block: 0 })
          yield* queue.claimStale("webhooks", "workers", "worker-2", { minIdle: 0, count: 1 })
          yield* queue.ack("webhooks", "workers", [ids[1]!])
          return ids
        }),
      )

      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          assert.strictEqual(yield* queue.length("webhooks"), 3)
          assert.strictEqual(yield* queue.pending("webhooks", "workers"), 1)

          // Entries pending before the restart are claimable at once, with
          // their delivery counts kept.
          const claimed = yield* queue.claimStale("webhooks", "workers", "worker-3", {
            minIdle: "1 minute",
            count: 10,
          })
          assert.deepStrictEqual(claimed, [{ id: ids[0]!, payload: "a", deliveries: 3 }])

          const fresh = yield* queue.read("webhooks", "workers", "worker-3", {
            count: 10,
            block: 0,
          })
          assert.deepStrictEqual(
            fresh.map((entry) => entry.payload),
            ["c", "d"],
          )

          const next = yield* queue.append("webhooks", "e")
          const [lastMs, lastSeq] = ids[3]!.split("-").map(Number)
          const [nextMs, nextSeq] = next.split("-").map(Number)
          assert.isTrue(nextMs! > lastMs! || (nextMs === lastMs && nextSeq! > lastSeq!))
        }),
      )
    }),
  )

  it.live("skips a line cut short by a crash", () =>
    Effect.gen(function* () {
      const dataDir = yield* makeTempDir("stream-journal")
      const file = join(dataDir, StreamQueueMemory.JOURNAL_FILE)
      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.append("webhooks", "kept")
        }),
      )
      appendFileSync(file, '{"o":"a","s":"webhooks","i":"99999999999999-0","p":"cut sh')

      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          const entries = yield* queue.range("webhooks", { count: 10 })
          assert.deepStrictEqual(
            entries.map((entry) => entry.payload),
            ["kept"],
          )
          yield* queue.append("webhooks", "after-crash")
        }),
      )

      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          const entries = yield* queue.range("webhooks", { count: 10 })
          assert.deepStrictEqual(
            entries.map((entry) => entry.payload),
            ["kept", "after-crash"],
          )
        }),
      )
    }),
  )

  it.live("compacts acknowledged entries on start", () =>
    Effect.gen(function* () {
      const dataDir = yield* makeTempDir("stream-journal")
      const file = join(dataDir, StreamQueueMemory.JOURNAL_FILE)
      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          yield* queue.ensureGroup("webhooks", "workers")
          const ids = yield* queue.appendMany(
            "webhooks",
            Array.from({ length: 100 }, () => "x".repeat(1000)),
          )
          yield* queue.read("webhooks", "workers", "worker-1", { count: 100, block: 0 })
          yield* queue.ack("webhooks", "workers", ids)
        }),
      )
      const before = statSync(file).size

      yield* withQueue(
        dataDir,
        Effect.gen(function* () {
          const queue = yield* StreamQueue
          assert.strictEqual(yield* queue.length("webhooks"), 0)
          assert.strictEqual(yield* queue.pending("webhooks", "workers"), 0)
        }),
      )
      const after = statSync(file).size
      assert.isBelow(after, before / 10)
      assert.notInclude(readFileSync(file, "utf8"), "xxxxxxxxxx")
    }),
  )
})
