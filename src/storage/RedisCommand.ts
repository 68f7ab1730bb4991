import { createHash } from "node:crypto"
import { Effect } from "effect"
import type { Cluster, Redis } from "ioredis"
import { StoreError, type StoreErrorReason } from "./StoreError.ts"

/** An ioredis connection to one server or to a Redis Cluster. */
export type RedisConnectionClient = Redis | Cluster

/**
 * Maps an ioredis failure to a `StoreError` reason. Replies from the server are
 * `protocol` errors, except `OOM` (Redis reached `maxmemory`), which means the
 * store is full. ioredis reports its `commandTimeout` as "Command timed out";
 * every other failure (refused, closed, not writable while reconnecting) means
 * Redis is unavailable.
 */
export const classifyRedisFailure = (cause: unknown): StoreErrorReason => {
  if (!(cause instanceof Error)) return "unavailable"
  if (cause.name === "ReplyError") {
    return cause.message.startsWith("OOM") ? "queue_full" : "protocol"
  }
  if (cause.message === "Command timed out") return "timeout"
  return "unavailable"
}

/** Builds the `StoreError` for a failed Redis call of `operation`. */
export const storeErrorFromRedis = (operation: string, cause: unknown): StoreError => {
  const reason = classifyRedisFailure(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new StoreError({
    reason,
    operation,
    message: `${operation} failed, Redis ${reason === "protocol" ? "rejected the command" : "is unavailable"}: ${detail}`,
    cause,
  })
}

/**
 * Runs one ioredis call as an Effect under a client span named after the Redis
 * command, as OpenTelemetry's database conventions name spans.
 */
export const redisCall = <A>(
  operation: string,
  command: string,
  run: () => Promise<A>,
): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) => storeErrorFromRedis(operation, cause),
  }).pipe(
    Effect.withSpan(command, {
      kind: "client",
      attributes: { "db.system.name": "redis", "db.operation.name": command },
    }),
  )

/** A Lua script with its SHA1, run with EVALSHA and loaded on a NOSCRIPT reply. */
export interface LuaScript {
  readonly lua: string
  readonly sha: string
}

export const luaScript = (lua: string): LuaScript => ({
  lua,
  sha: createHash("sha1").update(lua).digest("hex"),
})

/**
 * Runs a script by SHA and falls back to EVAL when the server has not cached
 * it yet (after a restart or on a new cluster node). EVAL caches it for the
 * next call.
 */
export const evalScript = async (
  client: RedisConnectionClient,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>,
): Promise<unknown> => {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (cause) {
    if (cause instanceof Error && cause.message.startsWith("NOSCRIPT")) {
      return await client.eval(script.lua, keys.length, ...keys, ...args)
    }
    throw cause
  }
}
