import { type Duration, Effect, Layer, Option, Schedule } from "effect"
import { KeyValue, ttlMillis } from "./KeyValue.ts"

export interface KeyValueMemoryOptions {
  /**
   * Maximum number of keys held. When a new key would exceed it, the oldest
   * inserted key is evicted, so the store drops the oldest delivery ids and
   * states first. Default 100,000, which is tens of MB for keys and values of
   * a few hundred bytes.
   */
  readonly maxEntries?: number | undefined
  /** How often expired keys are removed. Default 10 seconds. */
  readonly sweepInterval?: Duration.Input | undefined
}

interface Entry {
  readonly value: string
  /** Epoch milliseconds; `Infinity` for a key without expiry. */
  readonly expiresAt: number
}

/**
 * Builds `KeyValue` on a `Map` held in this process. Every operation runs in
 * one synchronous step, which makes `setIfAbsent` and `take` atomic. Expired
 * keys are invisible at once and freed by a sweep that runs in the layer's
 * scope.
 */
export const make = (options: KeyValueMemoryOptions = {}) =>
  Effect.gen(function* () {
    const maxEntries = Math.max(1, options.maxEntries ?? 100_000)
    const entries = new Map<string, Entry>()

    const live = (key: string, now: number): Entry | undefined => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expiresAt > now) return entry
      entries.delete(key)
      return undefined
    }

    // Map keeps insertion order, so the first key is the oldest inserted.
    const insert = (key: string, value: string, ttl: Duration.Input, now: number) => {
      const millis = ttlMillis(ttl)
      entries.delete(key)
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next()
        if (!oldest.done) entries.delete(oldest.value)
      }
      entries.set(key, { value, expiresAt: millis === undefined ? Infinity : now + millis })
    }

    const withNow = <A>(f: (now: number) => A): Effect.Effect<A> =>
      Effect.clockWith((clock) => Effect.sync(() => f(clock.currentTimeMillisUnsafe())))

    const sweep = withNow((now) => {
      for (const [key, entry] of entries) {
        if (entry.expiresAt <= now) entries.delete(key)
      }
    })
    yield* Effect.forkScoped(
      Effect.repeat(sweep, Schedule.spaced(options.sweepInterval ?? "10 seconds")),
    )

    return KeyValue.of({
      setIfAbsent: (key, value, ttl) =>
        withNow((now) => {
          if (live(key, now) !== undefined) return false
          insert(key, value, ttl, now)
          return true
        }),

      take: (key) =>
        withNow((now) => {
          const entry = live(key, now)
          if (entry === undefined) return Option.none()
          entries.delete(key)
          return Option.some(entry.value)
        }),

      get: (key) =>
        withNow((now) => Option.map(Option.fromNullishOr(live(key, now)), (entry) => entry.value)),

      set: (key, value, ttl) => withNow((now) => insert(key, value, ttl, now)),

      delete: (key) =>
        withNow((now) => {
          const existed = live(key, now) !== undefined
          entries.delete(key)
          return existed
        }),
    })
  })

export const layer = (options: KeyValueMemoryOptions = {}): Layer.Layer<KeyValue> =>
  Layer.effect(KeyValue, make(options))
