import { Context, Duration, type Effect, type Option } from "effect"
import type { StoreError } from "./StoreError.ts"

/**
 * Short-lived string values with a time to live: webhook delivery ids claimed
 * for deduplication, single-use OAuth states, cached lookups. Implemented on
 * Redis (`KeyValueRedis`) and in process (`KeyValueMemory`); both make
 * `setIfAbsent` and `take` atomic, so concurrent callers see one winner.
 */
export class KeyValue extends Context.Service<
  KeyValue,
  {
    /**
     * Stores `value` under `key` only if the key has no live value, and
     * returns whether it did (Redis `SET key value NX PX ttl`). Used to claim
     * a webhook delivery id exactly once.
     */
    readonly setIfAbsent: (
      key: string,
      value: string,
      ttl: Duration.Input,
    ) => Effect.Effect<boolean, StoreError>
    /**
     * Returns the value and deletes the key in one step (Redis `GETDEL`), so of
     * two callers taking the same key only one gets the value. Used to consume
     * a single-use OAuth state.
     */
    readonly take: (key: string) => Effect.Effect<Option.Option<string>, StoreError>
    readonly get: (key: string) => Effect.Effect<Option.Option<string>, StoreError>
    /** Stores `value`, replacing any previous value and time to live. */
    readonly set: (
      key: string,
      value: string,
      ttl: Duration.Input,
    ) => Effect.Effect<void, StoreError>
    /** Deletes the key and returns whether it held a live value. */
    readonly delete: (key: string) => Effect.Effect<boolean, StoreError>
  }
>()("app/storage/KeyValue") {}

/**
 * Converts a time to live to whole milliseconds for Redis `PX`, rounding up so
 * a positive duration never becomes 0. Returns `undefined` for an infinite
 * duration, which means "no expiry".
 */
export const ttlMillis = (ttl: Duration.Input): number | undefined => {
  const millis = Duration.toMillis(ttl)
  if (!Number.isFinite(millis)) return undefined
  return Math.max(1, Math.ceil(millis))
}
