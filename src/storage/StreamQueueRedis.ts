import { Duration, Effect, Layer } from "effect"
import * as Redis from "effect/persistence/Redis"
import { evalScript, luaScript, redisCall, storeErrorFromRedis } from "./RedisCommand.ts"
import { RedisClient } from "./RedisConnection.ts"
import { StoreError } from "./StoreError.ts"
import { type DeliveredEntry, type StreamEntry, StreamQueue } from "./StreamQueue.ts"

export interface StreamQueueRedisOptions {
  /** Prepended to every stream key. Default none. */
  readonly keyPrefix?: string | undefined
  /**
   * Trims each stream to about this many entries on append (`XADD MAXLEN ~`).
   * Trimming removes the oldest entries whether or not they were processed,
   * so the default is no trimming: `ack` deletes processed entries, and a
   * Redis at `maxmemory` rejects appends, which fail as `queue_full`. Set it
   * only far above the expected backlog.
   */
  readonly maxLength?: number | undefined
  /**
   * Extra time a blocking read waits past its `block` before it fails as a
   * timeout, for a connection that stopped replying. Default 2 seconds.
   */
  readonly readGrace?: Duration.Input | undefined
}

const FIELD = "payload"

// Claims idle entries and reads each one's delivery count from the pending
// list in the same atomic step. XAUTOCLAIM (Redis 6.2+) scans the pending list
// from the start, up to 10 times COUNT entries per call. Redis 6.2 returns
// deleted entries as nil; Redis 7 drops them from the pending list itself.
const claimScript = luaScript(`
local claimed = redis.call("XAUTOCLAIM", KEYS[1], ARGV[1], ARGV[2], ARGV[3], "0-0", "COUNT", ARGV[4])
local result = {}
for _, entry in ipairs(claimed[2]) do
  local fields = entry[2]
  if type(fields) == "table" then
    local payload = ""
    for i = 1, #fields, 2 do
      if fields[i] == "${FIELD}" then payload = fields[i + 1] end
    end
    local info = redis.call("XPENDING", KEYS[1], ARGV[1], entry[1], entry[1], 1)
    local deliveries = 1
    if info[1] then deliveries = info[1][4] end
    result[#result + 1] = { entry[1], payload, deliveries }
  end
end
return result`)

type RawEntry = [id: string, fields: ReadonlyArray<string> | null]

const payloadOf = (fields: ReadonlyArray<string>): string => {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === FIELD) return fields[i + 1] ?? ""
  }
  return ""
}

const toEntries = (raw: ReadonlyArray<RawEntry>): Array<StreamEntry> =>
  raw.flatMap(([id, fields]) => (fields === null ? [] : [{ id, payload: payloadOf(fields) }]))

/**
 * Builds `StreamQueue` on Redis streams. Blocking reads run on a connection
 * reserved from the `Redis` service's pool, because XREADGROUP BLOCK would
 * hold up every command queued behind it on the shared connection.
 */
export const make = (options: StreamQueueRedisOptions = {}) =>
  Effect.gen(function* () {
    const { client } = yield* RedisClient
    const redis = yield* Redis.Redis
    const prefix = options.keyPrefix ?? ""
    const trim = options.maxLength === undefined ? [] : ["MAXLEN", "~", String(options.maxLength)]
    const readGraceMillis = Duration.toMillis(options.readGrace ?? "2 seconds")

    const blockingRead = (args: ReadonlyArray<string>, blockMillis: number) =>
      Effect.scoped(
        Effect.flatMap(redis.reserve, (connection) =>
          connection.send<ReadonlyArray<[string, ReadonlyArray<RawEntry>]> | null>(
            "XREADGROUP",
            ...args,
          ),
        ),
      ).pipe(
        Effect.mapError((error) => storeErrorFromRedis("StreamQueue.read", error.cause)),
        Effect.timeoutOrElse({
          duration: Duration.millis(blockMillis + readGraceMillis),
          orElse: () =>
            Effect.fail(
              new StoreError({
                reason: "timeout",
                operation: "StreamQueue.read",
                message: "StreamQueue.read timed out, Redis did not reply to a blocking XREADGROUP",
              }),
            ),
        }),
        Effect.withSpan("XREADGROUP", {
          kind: "client",
          attributes: { "db.system.name": "redis", "db.operation.name": "XREADGROUP" },
        }),
      )

    return StreamQueue.of({
      append: (stream, payload) =>
        redisCall("StreamQueue.append", "XADD", () =>
          client.call("XADD", prefix + stream, ...trim, "*", FIELD, payload),
        ) as Effect.Effect<string, StoreError>,

      appendMany: (stream, payloads) => {
        if (payloads.length === 0) return Effect.succeed([])
        return redisCall("StreamQueue.appendMany", "MULTI", async () => {
          const multi = client.multi()
          for (const payload of payloads)
            multi.call("XADD", prefix + stream, ...trim, "*", FIELD, payload)
          const replies = await multi.exec()
          if (replies === null) throw new Error("MULTI was aborted")
          return replies.map(([error, id]) => {
            if (error !== null) throw error
            return id as string
          })
        })
      },

      ensureGroup: (stream, group) =>
        redisCall("StreamQueue.ensureGroup", "XGROUP", () =>
          client
            .xgroup("CREATE", prefix + stream, group, "0", "MKSTREAM")
            .catch((cause: unknown) => {
              if (cause instanceof Error && cause.message.startsWith("BUSYGROUP")) return "OK"
              throw cause
            }),
        ).pipe(Effect.asVoid),

      read: (stream, group, consumer, readOptions) => {
        const blockMillis = Math.ceil(Duration.toMillis(readOptions.block))
        const head = ["GROUP", group, consumer, "COUNT", String(readOptions.count)]
        const tail = ["STREAMS", prefix + stream, ">"]
        const reply =
          blockMillis <= 0
            ? (redisCall("StreamQueue.read", "XREADGROUP", () =>
                client.call("XREADGROUP", ...head, ...tail),
              ) as Effect.Effect<
                ReadonlyArray<[string, ReadonlyArray<RawEntry>]> | null,
                StoreError
              >)
            : blockingRead([...head, "BLOCK", String(blockMillis), ...tail], blockMillis)
        return Effect.map(
          reply,
          (streams): ReadonlyArray<DeliveredEntry> =>
            streams === null
              ? []
              : toEntries(streams[0]?.[1] ?? []).map((entry) => ({ ...entry, deliveries: 1 })),
        )
      },

      ack: (stream, group, ids) => {
        if (ids.length === 0) return Effect.succeed(0)
        return redisCall("StreamQueue.ack", "MULTI", async () => {
          const replies = await client
            .multi()
            .xack(prefix + stream, group, ...ids)
            .xdel(prefix + stream, ...ids)
            .exec()
          const [ackError, acked] = replies?.[0] ?? [new Error("MULTI was aborted"), 0]
          if (ackError !== null) throw ackError
          return acked as number
        })
      },

      claimStale: (stream, group, consumer, claimOptions) =>
        redisCall("StreamQueue.claimStale", "XAUTOCLAIM", () =>
          evalScript(
            client,
            claimScript,
            [prefix + stream],
            [
              group,
              consumer,
              Math.ceil(Duration.toMillis(claimOptions.minIdle)),
              claimOptions.count,
            ],
          ),
        ).pipe(
          Effect.map((rows) =>
            (rows as ReadonlyArray<[string, string, number]>).map(([id, payload, deliveries]) => ({
              id,
              payload,
              deliveries,
            })),
          ),
        ),

      length: (stream) =>
        redisCall("StreamQueue.length", "XLEN", () => client.xlen(prefix + stream)),

      pending: (stream, group) =>
        redisCall("StreamQueue.pending", "XPENDING", () =>
          client.xpending(prefix + stream, group),
        ).pipe(Effect.map((summary) => Number((summary as [number, ...Array<unknown>])[0]))),

      range: (stream, rangeOptions) =>
        redisCall("StreamQueue.range", "XRANGE", () =>
          client.xrange(
            prefix + stream,
            rangeOptions.start ?? "-",
            "+",
            "COUNT",
            rangeOptions.count,
          ),
        ).pipe(Effect.map((raw) => toEntries(raw as ReadonlyArray<RawEntry>))),

      remove: (stream, ids) =>
        ids.length === 0
          ? Effect.succeed(0)
          : redisCall("StreamQueue.remove", "XDEL", () => client.xdel(prefix + stream, ...ids)),
    })
  })

export const layer = (
  options: StreamQueueRedisOptions = {},
): Layer.Layer<StreamQueue, never, RedisClient | Redis.Redis> =>
  Layer.effect(StreamQueue, make(options))
