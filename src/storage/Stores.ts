import * as path from "node:path"
import { Context, type Duration, Effect, Layer, type Redacted, Result } from "effect"
import { CircuitBreaker, PersistedQueue, RateLimiter } from "effect/persistence"
import type { KeyValue } from "./KeyValue.ts"
import * as KeyValueMemory from "./KeyValueMemory.ts"
import * as KeyValueRedis from "./KeyValueRedis.ts"
import type { Locks } from "./Locks.ts"
import * as LocksMemory from "./LocksMemory.ts"
import * as LocksRedis from "./LocksRedis.ts"
import { redisCall } from "./RedisCommand.ts"
import * as RedisConnection from "./RedisConnection.ts"
import { RedisClient, type RedisUnavailable } from "./RedisConnection.ts"
import { parseRedisUrl } from "./RedisUrl.ts"
import type { StoreError } from "./StoreError.ts"
import type { StreamQueue } from "./StreamQueue.ts"
import * as StreamQueueMemory from "./StreamQueueMemory.ts"
import * as StreamQueueRedis from "./StreamQueueRedis.ts"

export interface StoresOptions {
  /** `REDIS_URL`; unset selects the in-process (embedded) stores. */
  readonly redisUrl: Redacted.Redacted<string> | undefined
  /** Directory for the embedded stream-queue journal. */
  readonly dataDir: string
  /** How long start-up waits for Redis before failing. */
  readonly connectTimeout: Duration.Input
  /** How long one Redis command may wait for its reply. Default 1 second. */
  readonly commandTimeout?: Duration.Input | undefined
  /**
   * Prefix of every Redis key the stores write, so several deployments or
   * test runs can share one Redis without seeing each other's data.
   */
  readonly keyPrefix?: string | undefined
  /** Redis `XADD MAXLEN ~` trim; see `StreamQueueRedisOptions.maxLength`. Default none. */
  readonly streamMaxLength?: number | undefined
}

/** Every service `Stores.layer` provides, in both modes. */
export type StoreServices =
  | Stores
  | KeyValue
  | Locks
  | StreamQueue
  | RateLimiter.RateLimiterStore
  | CircuitBreaker.CircuitBreakerStore
  | PersistedQueue.PersistedQueueStore

/**
 * Lines describing the cache, lock and queue store for the start-up log, such
 * as `redis server 127.0.0.1:6379` or `in-process (embedded)`. Never shows a
 * password.
 */
export const describeStores = (
  options: Pick<StoresOptions, "redisUrl" | "dataDir">,
): ReadonlyArray<string> => {
  if (options.redisUrl === undefined) {
    return [
      "in-process (embedded)",
      `stream queue journal ${path.join(options.dataDir, StreamQueueMemory.JOURNAL_FILE)}`,
    ]
  }
  const target = parseRedisUrl(options.redisUrl)
  if (Result.isFailure(target)) return ["redis (invalid REDIS_URL)"]
  return [
    target.success._tag === "Cluster"
      ? `redis cluster ${target.success.display}`
      : `redis server ${target.success.display}`,
  ]
}

const serverLayer = (options: StoresOptions, url: Redacted.Redacted<string>) => {
  const connection = RedisConnection.layer({
    url,
    connectTimeout: options.connectTimeout,
    commandTimeout: options.commandTimeout,
  })
  const info = Layer.effect(
    Stores,
    Effect.gen(function* () {
      const { client } = yield* RedisClient
      return Stores.of({
        mode: "server",
        description: describeStores(options).join(", "),
        ping: Effect.asVoid(redisCall("Stores.ping", "PING", () => client.ping())),
      })
    }),
  )
  const prefix = options.keyPrefix ?? ""
  return Layer.mergeAll(
    info,
    KeyValueRedis.layer({ keyPrefix: prefix }),
    LocksRedis.layer({ keyPrefix: `${prefix}lock:` }),
    StreamQueueRedis.layer({ keyPrefix: prefix, maxLength: options.streamMaxLength }),
    RateLimiter.layerStoreRedis({ prefix: `${prefix}ratelimit:` }),
    CircuitBreaker.layerStoreRedis({ prefix: `${prefix}circuit:` }),
    PersistedQueue.layerStoreRedis({ prefix: `${prefix}queue:` }),
  ).pipe(Layer.provideMerge(connection))
}

const embeddedLayer = (options: StoresOptions) =>
  Layer.mergeAll(
    Layer.succeed(
      Stores,
      Stores.of({
        mode: "embedded",
        description: describeStores(options).join(", "),
        ping: Effect.void,
      }),
    ),
    KeyValueMemory.layer(),
    LocksMemory.layer,
    StreamQueueMemory.layer({ dataDir: options.dataDir }),
    RateLimiter.layerStoreMemory,
    CircuitBreaker.layerStoreMemory(),
    PersistedQueue.layerStoreMemory,
  )

/**
 * The cache, lock and queue stores, and Effect's rate-limiter, circuit-breaker
 * and persisted-queue stores: on Redis when `redisUrl` is set (server mode),
 * in this process otherwise (embedded mode).
 */
export class Stores extends Context.Service<
  Stores,
  {
    readonly mode: "server" | "embedded"
    /** The lines of `describeStores` joined by ", ". */
    readonly description: string
    /** Succeeds when the store replies (Redis `PING`); used by `/ready`. */
    readonly ping: Effect.Effect<void, StoreError>
  }
>()("app/storage/Stores") {
  /**
   * In server mode the layer also provides Effect's `Redis` service and the
   * raw `RedisClient`; read them with `Effect.serviceOption`, since embedded
   * mode has neither.
   */
  static readonly layer = (
    options: StoresOptions,
  ): Layer.Layer<StoreServices, RedisUnavailable | StoreError> =>
    options.redisUrl === undefined ? embeddedLayer(options) : serverLayer(options, options.redisUrl)
}
