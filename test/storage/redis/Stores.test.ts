import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { CircuitBreaker, PersistedQueue, RateLimiter, Redis } from "effect/persistence"
import { KeyValue } from "../../../src/storage/KeyValue.ts"
import { Locks } from "../../../src/storage/Locks.ts"
import { RedisClient } from "../../../src/storage/RedisConnection.ts"
import { describeStores, type StoreServices, Stores } from "../../../src/storage/Stores.ts"
import { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import { testRedisUrl } from "../../support/StoreModes.ts"
import { makeTempDir } from "./Implementations.ts"

const providesEveryStore = (context: Context.Context<StoreServices>) => {
  for (const key of [
    Stores,
    KeyValue,
    Locks,
    StreamQueue,
    RateLimiter.RateLimiterStore,
    CircuitBreaker.CircuitBreakerStore,
    PersistedQueue.PersistedQueueStore,
  ]) {
    assert.isTrue(
      Option.isSome(
        Context.getOption(
          context as Context.Context<unknown>,
          key as Context.Key<unknown, unknown>,
        ),
      ),
      key.key,
    )
  }
}

describe("Stores", () => {
  it("describes each mode without credentials", () => {
    assert.deepStrictEqual(describeStores({ redisUrl: undefined, dataDir: "data" }), [
      "in-process (embedded)",
      "stream queue journal data/stream-queue.journal",
    ])
    assert.deepStrictEqual(
      describeStores({ redisUrl: Redacted.make("redis://:pw@127.0.0.1:6379/0"), dataDir: "data" }),
      ["redis server 127.0.0.1:6379"],
    )
    assert.deepStrictEqual(
      describeStores({ redisUrl: Redacted.make("10.0.0.1:7000,10.0.0.2:7000"), dataDir: "data" }),
      ["redis cluster 10.0.0.1:7000,10.0.0.2:7000"],
    )
  })

  it.live("embedded mode provides every store in process", () =>
    Effect.gen(function* () {
      const dataDir = yield* makeTempDir("stores")
      const context = yield* Layer.build(
        Stores.layer({ redisUrl: undefined, dataDir, connectTimeout: "1 second" }),
      )
      providesEveryStore(context)
      const stores = Context.get(context, Stores)
      assert.strictEqual(stores.mode, "embedded")
      assert.include(stores.description, "in-process (embedded)")
      yield* stores.ping
      assert.isTrue(
        Option.isNone(
          Context.getOption(context as Context.Context<StoreServices | Redis.Redis>, Redis.Redis),
        ),
      )
    }),
  )

  it.live.runIf(testRedisUrl !== undefined)("server mode provides every store on Redis", () =>
    Effect.gen(function* () {
      const dataDir = yield* makeTempDir("stores")
      const context = yield* Layer.build(
        Stores.layer({
          redisUrl: Redacted.make(testRedisUrl ?? ""),
          dataDir,
          connectTimeout: "5 seconds",
        }),
      )
      providesEveryStore(context)
      const stores = Context.get(context, Stores)
      assert.strictEqual(stores.mode, "server")
      assert.match(stores.description, /^redis server /)
      yield* stores.ping

      const extra = context as Context.Context<StoreServices | Redis.Redis | RedisClient>
      const redis = Context.getOption(extra, Redis.Redis)
      assert.isTrue(Option.isSome(redis))
      if (Option.isSome(redis)) assert.strictEqual(yield* redis.value.send("PING"), "PONG")
      assert.isTrue(Option.isSome(Context.getOption(extra, RedisClient)))
    }),
  )
})
