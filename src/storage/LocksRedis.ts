import { randomUUID } from "node:crypto"
import { Clock, Duration, Effect, Fiber, Layer } from "effect"
import { Locks, LockTimeout } from "./Locks.ts"
import { evalScript, luaScript, redisCall } from "./RedisCommand.ts"
import { RedisClient } from "./RedisConnection.ts"

export interface LocksRedisOptions {
  /** Prepended to every lock key. Default `"lock:"`. */
  readonly keyPrefix?: string | undefined
}

// Deletes the lock only if this holder's token is still in it, so a holder
// whose lock expired cannot release a lock another caller has since taken.
const releaseScript = luaScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

// Extends the lock only if this holder still owns it.
const refreshScript = luaScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// Waiters poll with exponential backoff from 5 ms up to 100 ms, each sleep
// scaled by a random factor in [0.5, 1) so waiters do not retry in step.
const pollDelayMillis = (attempt: number): number =>
  Math.min(100, 5 * 2 ** attempt) * (0.5 + Math.random() / 2)

/**
 * Builds `Locks` on Redis: `SET key token NX PX ttl` acquires, a Lua
 * compare-and-delete releases, and a background fiber extends the expiry every
 * third of the ttl while the effect runs. Each key lives on one node, so this
 * is a single-instance lock (not Redlock): a Redis failover that loses the
 * key can admit a second holder.
 */
export const make = (options: LocksRedisOptions = {}) =>
  Effect.gen(function* () {
    const { client } = yield* RedisClient
    const prefix = options.keyPrefix ?? "lock:"

    const trySet = (key: string, token: string, ttl: number) =>
      redisCall("Locks.withLock", "SET", () => client.set(key, token, "PX", ttl, "NX")).pipe(
        Effect.map((reply) => reply === "OK"),
      )

    const refreshLoop = (key: string, token: string, ttl: number) =>
      Effect.gen(function* () {
        while (true) {
          yield* Effect.sleep(Duration.millis(ttl / 3))
          const refreshed = yield* redisCall("Locks.refresh", "EVALSHA", () =>
            evalScript(client, refreshScript, [key], [token, ttl]),
          ).pipe(
            // A failed refresh is retried on the next tick; the lock lives
            // another two thirds of its ttl.
            Effect.catch((error) =>
              Effect.as(Effect.logWarning("Lock refresh failed, retrying", error), 1),
            ),
          )
          if (refreshed === 0) {
            return yield* Effect.logWarning(
              "Lock expired while its holder was still running; another caller may hold it now",
            ).pipe(Effect.annotateLogs({ lock: key }))
          }
        }
      })

    const release = (key: string, token: string) =>
      redisCall("Locks.release", "EVALSHA", () =>
        evalScript(client, releaseScript, [key], [token]),
      ).pipe(
        // The lock still expires after its ttl, so a failed release only
        // delays the next holder.
        Effect.ignore({
          log: "Warn",
          message: `Lock release failed for ${key}, it expires after its ttl`,
        }),
      )

    return Locks.of({
      withLock: (name, ttl, effect, lockOptions) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const key = prefix + name
            const token = randomUUID()
            const ttlMillis = Math.max(1, Math.ceil(Duration.toMillis(ttl)))
            const waitMillis = Duration.toMillis(lockOptions?.waitUpTo ?? ttl)
            const start = yield* Clock.currentTimeMillis

            // Only the SET is uninterruptible, so an interrupted waiter never
            // leaves a lock behind and never waits out its sleep.
            for (let attempt = 0; !(yield* trySet(key, token, ttlMillis)); attempt++) {
              const remaining = waitMillis - ((yield* Clock.currentTimeMillis) - start)
              if (remaining <= 0) {
                return yield* new LockTimeout({
                  key: name,
                  message: `Lock "${name}" is held by another caller; waited ${Duration.format(Duration.millis(waitMillis))}`,
                })
              }
              yield* restore(
                Effect.sleep(Duration.millis(Math.min(remaining, pollDelayMillis(attempt)))),
              )
            }

            const refresher = yield* Effect.forkChild(
              Effect.interruptible(refreshLoop(key, token, ttlMillis)),
            )
            return yield* restore(effect).pipe(
              Effect.ensuring(Fiber.interrupt(refresher)),
              Effect.ensuring(release(key, token)),
            )
          }),
        ),
    })
  })

export const layer = (options: LocksRedisOptions = {}): Layer.Layer<Locks, never, RedisClient> =>
  Layer.effect(Locks, make(options))
