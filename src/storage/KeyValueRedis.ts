import { Effect, Layer, Option } from "effect"
import { KeyValue, ttlMillis } from "./KeyValue.ts"
import { redisCall } from "./RedisCommand.ts"
import { RedisClient } from "./RedisConnection.ts"

export interface KeyValueRedisOptions {
  /** Prepended to every key, such as `"kv:"`. Default none. */
  readonly keyPrefix?: string | undefined
}

/** Builds `KeyValue` on Redis strings. Requires Redis 6.2 or later for GETDEL. */
export const make = (options: KeyValueRedisOptions = {}) =>
  Effect.gen(function* () {
    const { client } = yield* RedisClient
    const prefix = options.keyPrefix ?? ""

    return KeyValue.of({
      setIfAbsent: (key, value, ttl) => {
        const px = ttlMillis(ttl)
        const reply =
          px === undefined
            ? () => client.set(prefix + key, value, "NX")
            : () => client.set(prefix + key, value, "PX", px, "NX")
        return redisCall("KeyValue.setIfAbsent", "SET", reply).pipe(
          Effect.map((result) => result === "OK"),
        )
      },

      take: (key) =>
        redisCall("KeyValue.take", "GETDEL", () => client.getdel(prefix + key)).pipe(
          Effect.map(Option.fromNullishOr),
        ),

      get: (key) =>
        redisCall("KeyValue.get", "GET", () => client.get(prefix + key)).pipe(
          Effect.map(Option.fromNullishOr),
        ),

      set: (key, value, ttl) => {
        const px = ttlMillis(ttl)
        const reply =
          px === undefined
            ? () => client.set(prefix + key, value)
            : () => client.set(prefix + key, value, "PX", px)
        return Effect.asVoid(redisCall("KeyValue.set", "SET", reply))
      },

      delete: (key) =>
        redisCall("KeyValue.delete", "DEL", () => client.del(prefix + key)).pipe(
          Effect.map((deleted) => deleted > 0),
        ),
    })
  })

export const layer = (
  options: KeyValueRedisOptions = {},
): Layer.Layer<KeyValue, never, RedisClient> => Layer.effect(KeyValue, make(options))
