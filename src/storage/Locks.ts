import { Context, Data, type Duration, type Effect } from "effect"
import type { StoreError } from "./StoreError.ts"

/** The lock stayed held by another caller for the whole `waitUpTo`. */
export class LockTimeout extends Data.TaggedError("LockTimeout")<{
  readonly key: string
  readonly message: string
}> {
  get code(): "lock_timeout" {
    return "lock_timeout"
  }
}

export interface WithLockOptions {
  /**
   * How long to wait for a holder to release the lock before failing with
   * `LockTimeout`. Default: the lock's `ttl`, the longest a crashed holder can
   * keep it. Zero tries once.
   */
  readonly waitUpTo?: Duration.Input | undefined
}

/**
 * Named mutual exclusion, across processes on Redis (`LocksRedis`) and within
 * this process in embedded mode (`LocksMemory`). Used so that one token
 * refresh runs at a time for an integration, however many callers and
 * instances ask at once.
 */
export class Locks extends Context.Service<
  Locks,
  {
    /**
     * Runs `effect` while holding the lock `key`, and releases it when the
     * effect ends, whatever its outcome. `ttl` bounds how long a holder that
     * crashed keeps the lock; a live holder keeps it while the effect runs.
     */
    readonly withLock: <A, E, R>(
      key: string,
      ttl: Duration.Input,
      effect: Effect.Effect<A, E, R>,
      options?: WithLockOptions,
    ) => Effect.Effect<A, E | LockTimeout | StoreError, R>
  }
>()("app/storage/Locks") {}
