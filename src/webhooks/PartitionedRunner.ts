/**
 * Runs items with bounded concurrency and keeps the order of items that
 * share a key. Each key has its own queue, drained by one fiber at a time,
 * and a semaphore bounds how many items do work at once. Submitting waits
 * while `maxBuffered` items are queued or running, which is how the stream
 * reader applies backpressure.
 */
import { Effect, FiberSet, Semaphore } from "effect"

export interface PartitionedRunner<Item> {
  /** Queues the item behind earlier items of the same key. */
  readonly submit: (key: string, item: Item) => Effect.Effect<void>
  /** True while an item is queued or running under `key`. */
  readonly isActive: (key: string) => boolean
}

/**
 * `run` gets `withSlot`, which bounds concurrency. Wrapping only the work
 * itself (and not the sleep between retries) lets a retrying item give its
 * slot to other keys while it waits.
 */
export const makePartitionedRunner = <Item>(options: {
  readonly concurrency: number
  readonly maxBuffered: number
  readonly run: (
    item: Item,
    withSlot: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
  ) => Effect.Effect<void>
}) =>
  Effect.gen(function* () {
    const slots = yield* Semaphore.make(options.concurrency)
    const buffer = yield* Semaphore.make(options.maxBuffered)
    const fibers = yield* FiberSet.make()
    const queues = new Map<string, Array<Item>>()
    const withSlot = slots.withPermits(1)

    const drain = (key: string, queue: Array<Item>): Effect.Effect<void> =>
      Effect.suspend(() => {
        const item = queue[0]
        if (item === undefined) {
          queues.delete(key)
          return Effect.void
        }
        return options.run(item, withSlot).pipe(
          Effect.ensuring(
            Effect.suspend(() => {
              queue.shift()
              return buffer.release(1)
            }),
          ),
          Effect.andThen(drain(key, queue)),
        )
      })

    const submit = (key: string, item: Item): Effect.Effect<void> =>
      Effect.andThen(
        buffer.take(1),
        Effect.suspend(() => {
          const queue = queues.get(key)
          if (queue !== undefined) {
            queue.push(item)
            return Effect.void
          }
          const fresh = [item]
          queues.set(key, fresh)
          return Effect.asVoid(FiberSet.run(fibers, drain(key, fresh)))
        }),
      )

    return { submit, isActive: (key: string) => queues.has(key) } satisfies PartitionedRunner<Item>
  })
