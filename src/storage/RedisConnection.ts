import { Config, Context, Data, Duration, Effect, Layer, Redacted, Result } from "effect"
import * as Redis from "effect/persistence/Redis"
import IORedis, { Cluster, type ClusterOptions, type RedisOptions } from "ioredis"
import type { RedisConnectionClient } from "./RedisCommand.ts"
import { maskRedisUrl, parseRedisUrl, type RedisTarget } from "./RedisUrl.ts"

/**
 * The raw ioredis client behind the `Redis` service, for hot paths that batch
 * commands in a pipeline or MULTI. Its commands fail within `commandTimeout`
 * while Redis is unreachable instead of queueing.
 */
export class RedisClient extends Context.Service<
  RedisClient,
  {
    readonly client: RedisConnectionClient
    /** `host:port` (or the cluster node list) without credentials, for logs. */
    readonly target: string
    readonly mode: "standalone" | "cluster"
  }
>()("app/storage/RedisClient") {}

/**
 * Redis could not be used at start-up: `REDIS_URL` is malformed, or no
 * connection became ready within `connectTimeout`.
 */
export class RedisUnavailable extends Data.TaggedError("RedisUnavailable")<{
  readonly reason: "invalid_url" | "connect_timeout"
  readonly message: string
  readonly cause?: unknown
}> {
  get code(): "redis_unavailable" {
    return "redis_unavailable"
  }
}

export interface RedisConnectionOptions {
  readonly url: Redacted.Redacted<string>
  /** How long start-up waits for Redis before failing. Default 30 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
  /** How long one command may wait for its reply. Default 1 second. */
  readonly commandTimeout?: Duration.Input | undefined
  /** Pool of dedicated connections behind `Redis.reserve` (blocking reads). */
  readonly pool?: Redis.PoolOptions | undefined
}

// One TCP connect attempt; start-up retries until `connectTimeout`.
const CONNECT_ATTEMPT_MILLIS = 5_000
// Reconnect backoff stays short so the service notices a returning Redis
// within about a second.
const reconnectDelay = (attempt: number): number => Math.min(100 * attempt, 1_000)

/**
 * ioredis options that make commands fail fast while Redis is down, so a
 * webhook route returns 503 within about `commandTimeout`:
 * - `enableOfflineQueue: false` rejects a command at once while the client
 *   reconnects, instead of holding it until Redis returns;
 * - `maxRetriesPerRequest: 0` rejects commands in flight when the connection
 *   drops, instead of resending them after a reconnect (a resent XADD could
 *   append an event whose caller already saw a failure and retried);
 * - `commandTimeout` bounds a command on a connection that stays open but
 *   gets no reply.
 * `retryStrategy` keeps reconnecting forever, so commands succeed again as
 * soon as Redis is back. `enableAutoPipelining` sends the commands issued in
 * one event-loop tick in one write, which the webhook route's many small
 * commands need to stay cheap.
 */
const sharedOptions = (commandTimeoutMillis: number): RedisOptions => ({
  lazyConnect: true,
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: commandTimeoutMillis,
  connectTimeout: CONNECT_ATTEMPT_MILLIS,
  keepAlive: 10_000,
  retryStrategy: reconnectDelay,
})

/**
 * Options for a dedicated connection: no `commandTimeout`, because it would
 * cut a blocking XREADGROUP short, and no reconnect, because a reserved
 * connection that fails leaves the pool. Callers bound their own wait.
 */
const dedicatedOptions = (): RedisOptions => ({
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  connectTimeout: CONNECT_ATTEMPT_MILLIS,
  keepAlive: 10_000,
  retryStrategy: () => null,
})

const createClient = (target: RedisTarget, options: RedisOptions): RedisConnectionClient => {
  if (target._tag === "Standalone") return new IORedis(Redacted.value(target.url), options)

  const redisOptions: RedisOptions = { ...options }
  if (target.username !== undefined) redisOptions.username = target.username
  if (target.password !== undefined) redisOptions.password = Redacted.value(target.password)
  if (target.tls) redisOptions.tls = {}
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: options.retryStrategy ?? reconnectDelay,
    redisOptions,
  }
  return new Cluster([...target.nodes], clusterOptions)
}

const closeClient = (client: RedisConnectionClient): Effect.Effect<void> =>
  Effect.promise(() => client.quit().catch(() => undefined)).pipe(
    Effect.timeoutOption("2 seconds"),
    Effect.ensuring(Effect.sync(() => client.disconnect())),
    Effect.asVoid,
  )

/** Waits for the `ready` event; ioredis keeps retrying failed attempts meanwhile. */
const awaitReady = (client: RedisConnectionClient): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (client.status === "ready") return resume(Effect.void)
    const onReady = () => resume(Effect.void)
    client.once("ready", onReady)
    client.connect().catch(() => undefined)
    return Effect.sync(() => client.off("ready", onReady))
  })

const connectDedicated = async (target: RedisTarget): Promise<RedisConnectionClient> => {
  const connection = createClient(target, dedicatedOptions())
  connection.on("error", () => undefined)
  try {
    await connection.connect()
    return connection
  } catch (cause) {
    connection.disconnect()
    throw cause
  }
}

/**
 * Sends one command. On a cluster, SCRIPT LOAD goes to every primary, because
 * EVALSHA runs on the node that owns the key and each node has its own
 * script cache.
 */
const sendWith =
  (client: RedisConnectionClient) =>
  <A = unknown>(
    command: string,
    ...args: ReadonlyArray<string>
  ): Effect.Effect<A, Redis.RedisError> =>
    Effect.tryPromise({
      try: async () => {
        if (client instanceof Cluster && command.toUpperCase() === "SCRIPT") {
          const nodes = client.nodes("master")
          const replies = await Promise.all(nodes.map((node) => node.call(command, ...args)))
          return replies[0] as A
        }
        return (await client.call(command, ...args)) as A
      },
      catch: (cause) => new Redis.RedisError({ cause }),
    })

const subscribeWith =
  (target: RedisTarget) => (channel: string, onMessage: (message: Redis.RedisMessage) => void) =>
    Effect.gen(function* () {
      const subscriber = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const connection = createClient(target, {
              ...dedicatedOptions(),
              retryStrategy: reconnectDelay,
            })
            connection.on("error", () => undefined)
            connection.on("message", (from: string, message: string) => {
              if (from === channel) onMessage({ channel: from, message })
            })
            try {
              await connection.connect()
              await connection.subscribe(channel)
              return connection
            } catch (cause) {
              connection.disconnect()
              throw cause
            }
          },
          catch: (cause) => new Redis.RedisError({ cause }),
        }),
        (connection) => Effect.sync(() => connection.disconnect()),
      )
      // ioredis resubscribes after a reconnect; the listener ends only when
      // the connection is closed for good.
      return Effect.callback<void, Redis.RedisError>((resume) => {
        const onEnd = () =>
          resume(Effect.fail(new Redis.RedisError({ cause: new Error("Redis subscriber closed") })))
        subscriber.once("end", onEnd)
        return Effect.sync(() => subscriber.off("end", onEnd))
      })
    })

const make = Effect.fnUntraced(function* (options: RedisConnectionOptions) {
  const parsed = parseRedisUrl(options.url)
  if (Result.isFailure(parsed)) {
    return yield* new RedisUnavailable({ reason: "invalid_url", message: parsed.failure })
  }
  const target = parsed.success
  const connectTimeout = Duration.fromInputUnsafe(options.connectTimeout ?? "30 seconds")
  const commandTimeoutMillis = Duration.toMillis(options.commandTimeout ?? "1 second")
  const context = yield* Effect.context<never>()
  const runLog = Effect.runForkWith(context)

  const client = yield* Effect.acquireRelease(
    Effect.sync(() => createClient(target, sharedOptions(commandTimeoutMillis))),
    closeClient,
  )
  const logged = Effect.annotateLogs({ "db.system.name": "redis", target: target.display })
  let lastError: Error | undefined
  let connected = false
  client.on("error", (error: Error) => {
    lastError = error
  })
  client.on("ready", () => {
    if (connected) return
    connected = true
    runLog(Effect.logInfo("Redis connection ready").pipe(logged))
  })
  client.on("reconnecting", () => {
    if (!connected) return
    connected = false
    const detail = lastError?.message ?? "connection closed"
    runLog(Effect.logWarning(`Redis connection lost, reconnecting: ${detail}`).pipe(logged))
  })

  yield* awaitReady(client).pipe(
    Effect.timeoutOrElse({
      duration: connectTimeout,
      orElse: () =>
        Effect.fail(
          new RedisUnavailable({
            reason: "connect_timeout",
            message:
              `Redis at REDIS_URL "${maskRedisUrl(Redacted.value(options.url))}" did not become ` +
              `ready within ${Duration.format(connectTimeout)}` +
              (lastError === undefined ? "" : `: ${lastError.message}`) +
              ". Start Redis, fix REDIS_URL, or unset it to use the in-process store.",
            cause: lastError,
          }),
        ),
    }),
  )

  const redis = yield* Redis.make({
    send: sendWith(client),
    subscribe: subscribeWith(target),
    connect: Effect.tryPromise({
      try: () => connectDedicated(target),
      catch: (cause) => new Redis.RedisError({ cause }),
    }).pipe(
      Effect.map((connection) => ({
        send: sendWith(connection),
        close: Effect.sync(() => connection.disconnect()),
      })),
    ),
    pool: options.pool,
  })

  return Context.make(RedisClient, {
    client,
    target: target.display,
    mode: target._tag === "Standalone" ? "standalone" : "cluster",
  }).pipe(Context.add(Redis.Redis, redis))
})

/**
 * Connects to Redis (or a Redis Cluster) and provides Effect's `Redis` service
 * and the raw `RedisClient`. The connections close with the layer's scope.
 */
export const layer = (
  options: RedisConnectionOptions,
): Layer.Layer<Redis.Redis | RedisClient, RedisUnavailable> => Layer.effectContext(make(options))

/** Like `layer`, reading the URL from `REDIS_URL`. */
export const layerConfig = (
  options: Omit<RedisConnectionOptions, "url"> = {},
): Layer.Layer<Redis.Redis | RedisClient, RedisUnavailable | Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const url = yield* Config.Redacted("REDIS_URL")
      return layer({ ...options, url })
    }),
  )
