/**
 * Admits a verified event to the `webhooks:events` stream at most once per
 * provider delivery id: claims the id for the dedup window and appends the
 * event, or reports a duplicate.
 *
 * On Redis both steps run in one Lua script, so a request costs one round
 * trip and a claim never exists without its event: if the append fails, the
 * script deletes the claim before it returns, and the provider's retry is
 * accepted. In embedded mode the in-process `KeyValue` claim and
 * `StreamQueue` append run one after the other, and a failed append gives the
 * claim back.
 */
import { Context, type Duration, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { ttlMillis } from "../storage/KeyValue.ts"
import { evalScript, luaScript, storeErrorFromRedis } from "../storage/RedisCommand.ts"
import { RedisClient } from "../storage/RedisConnection.ts"
import type { StoreError } from "../storage/StoreError.ts"
import { StreamQueue } from "../storage/StreamQueue.ts"
import { Deduplication, dedupKey } from "./Deduplication.ts"
import { eventsStream } from "./WebhookEvent.ts"

export type Admission = "accepted" | "duplicate"

/** The provider delivery id to deduplicate on, scoped by provider and endpoint. */
export interface DeliveryKey {
  readonly provider: string
  readonly endpointId: string | undefined
  readonly deliveryId: string
}

export interface EventAdmissionShape {
  /** Appends `payload` unless the delivery id was claimed within the window. */
  readonly admit: (
    delivery: DeliveryKey | undefined,
    payload: string,
  ) => Effect.Effect<Admission, StoreError>
}

export class EventAdmission extends Context.Service<EventAdmission, EventAdmissionShape>()(
  "app/webhooks/EventAdmission",
) {
  static readonly layer = (options: { readonly window: Duration.Input }) =>
    Layer.effect(EventAdmission, make(options))
}

// KEYS[1] stream, KEYS[2] dedup key (absent without a delivery id);
// ARGV[1] payload, ARGV[2] window in milliseconds. The field name matches
// StreamQueueRedis, which reads the entries. Returns the entry id, or false
// for a duplicate.
const admitScript = luaScript(`
if KEYS[2] then
  if not redis.call("SET", KEYS[2], "1", "PX", ARGV[2], "NX") then return false end
end
local ok, id = pcall(redis.call, "XADD", KEYS[1], "*", "payload", ARGV[1])
if not ok then
  if KEYS[2] then redis.call("DEL", KEYS[2]) end
  return redis.error_reply(type(id) == "table" and id.err or tostring(id))
end
return id`)

const make = (options: { readonly window: Duration.Input }) =>
  Effect.gen(function* () {
    const redis = yield* Effect.serviceOption(RedisClient)
    const windowMillis = String(ttlMillis(options.window) ?? 24 * 60 * 60 * 1000)

    if (Option.isSome(redis)) {
      const { client } = redis.value
      // The stores put REDIS_KEY_PREFIX before every key, so the script does
      // too. The dedup key's hash tag is the stream's whole key, so both keys
      // share one Redis Cluster slot. A prefix with its own tag also does.
      const prefix = (yield* AppConfig).redisKeyPrefix
      const streamKey = prefix + eventsStream
      const claimPrefix = `${prefix}{${streamKey}}:`
      // No client span here, unlike `redisCall`: on this path a span per
      // request cost about a fifth of the route's throughput in a local run.
      const admit = (delivery: DeliveryKey | undefined, payload: string) =>
        Effect.tryPromise({
          try: () =>
            evalScript(
              client,
              admitScript,
              delivery === undefined
                ? [streamKey]
                : [
                    streamKey,
                    claimPrefix +
                      dedupKey(delivery.provider, delivery.endpointId, delivery.deliveryId),
                  ],
              [payload, windowMillis],
            ),
          catch: (cause) => storeErrorFromRedis("EventAdmission.admit", cause),
        }).pipe(Effect.map((id): Admission => (id === null ? "duplicate" : "accepted")))
      return EventAdmission.of({ admit })
    }

    const dedup = yield* Deduplication
    const queue = yield* StreamQueue
    const append = (payload: string) => Effect.asVoid(queue.append(eventsStream, payload))

    const admit = (delivery: DeliveryKey | undefined, payload: string) => {
      if (delivery === undefined) return Effect.as(append(payload), "accepted" as const)
      const key = dedupKey(delivery.provider, delivery.endpointId, delivery.deliveryId)
      return Effect.flatMap(dedup.claim(key), (claimed) =>
        claimed
          ? append(payload).pipe(
              Effect.tapError(() => dedup.release(key)),
              Effect.as("accepted" as const),
            )
          : Effect.succeed("duplicate" as const),
      )
    }
    return EventAdmission.of({ admit })
  })
