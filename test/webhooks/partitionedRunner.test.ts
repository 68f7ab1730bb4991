/** Ordered partitions with bounded concurrency for the workers. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makePartitionedRunner } from "../../src/webhooks/PartitionedRunner.ts"

describe("partitioned runner", () => {
  it.live("keeps the order of one key and bounds concurrency", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      let running = 0
      let maxRunning = 0
      const runner = yield* makePartitionedRunner<{ key: string; n: number }>({
        concurrency: 3,
        maxBuffered: 10,
        run: (item, withSlot) =>
          withSlot(
            Effect.gen(function* () {
              running += 1
              maxRunning = Math.max(maxRunning, running)
              // Later items of a key finish sooner; order must still hold.
              yield* Effect.sleep(`${10 - item.n} millis`)
              seen.push(`${item.key}${item.n}`)
              running -= 1
            }),
          ),
      })
      for (let n = 0; n < 8; n++) {
        for (const key of ["a", "b", "c", "d"]) yield* runner.submit(key, { key, n })
      }
      while (seen.length < 32) yield* Effect.sleep("5 millis")

      for (const key of ["a", "b", "c", "d"]) {
        const order = seen.filter((entry) => entry.startsWith(key))
        expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => `${key}${n}`))
      }
      expect(maxRunning).toBeLessThanOrEqual(3)
      expect(maxRunning).toBeGreaterThan(1)
      expect(runner.isActive("a")).toBe(false)
    }).pipe(Effect.scoped),
  )

  it.live("keeps a partition going after a failing item", () =>
    Effect.gen(function* () {
      const done: Array<number> = []
      const runner = yield* makePartitionedRunner<number>({
        concurrency: 1,
        maxBuffered: 4,
        run: (n) =>
          n === 1 ? Effect.die("boom").pipe(Effect.ignoreCause) : Effect.sync(() => done.push(n)),
      })
      for (const n of [0, 1, 2]) yield* runner.submit("k", n)
      while (done.length < 2) yield* Effect.sleep("5 millis")
      expect(done).toEqual([0, 2])
    }).pipe(Effect.scoped),
  )
})
