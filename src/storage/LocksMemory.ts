import { Duration, Effect, Layer, Semaphore } from "effect"
import { Locks, LockTimeout } from "./Locks.ts"

interface KeyedSemaphore {
  readonly semaphore: Semaphore.Semaphore
  /** Callers holding or waiting for the lock; the entry is dropped at 0. */
  users: number
}

/**
 * Builds `Locks` on one semaphore per key in this process. The `ttl` is not
 * needed here: a holder in this process always releases through its finalizer,
 * and a crash ends every waiter with it. Semaphores exist only while a caller
 * owns or waits for the key, so idle keys take no memory.
 */
export const make = Effect.sync(() => {
  const semaphores = new Map<string, KeyedSemaphore>()

  const enter = (key: string): KeyedSemaphore => {
    let entry = semaphores.get(key)
    if (entry === undefined) {
      entry = { semaphore: Semaphore.makeUnsafe(1), users: 0 }
      semaphores.set(key, entry)
    }
    entry.users++
    return entry
  }

  const leave = (key: string, entry: KeyedSemaphore) =>
    Effect.sync(() => {
      entry.users--
      if (entry.users === 0) semaphores.delete(key)
    })

  return Locks.of({
    withLock: (key, ttl, effect, options) =>
      Effect.uninterruptibleMask((restore) => {
        const entry = enter(key)
        const wait = Duration.fromInputUnsafe(options?.waitUpTo ?? ttl)
        const timeout = new LockTimeout({
          key,
          message: `Lock "${key}" is held by another caller; waited ${Duration.format(wait)}`,
        })
        const acquire = Duration.isZero(wait)
          ? Effect.flatMap(entry.semaphore.takeIfAvailable(1), (taken) =>
              taken ? Effect.void : Effect.fail(timeout),
            )
          : restore(entry.semaphore.take(1)).pipe(
              Effect.timeoutOrElse({ duration: wait, orElse: () => Effect.fail(timeout) }),
            )

        return acquire.pipe(
          Effect.flatMap(() => restore(effect).pipe(Effect.ensuring(entry.semaphore.release(1)))),
          Effect.ensuring(leave(key, entry)),
        )
      }),
  })
})

export const layer: Layer.Layer<Locks> = Layer.effect(Locks, make)
