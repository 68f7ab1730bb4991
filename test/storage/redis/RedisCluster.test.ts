/**
 * The stores on a private three-node Redis Cluster: keys spread over the
 * nodes' hash slots, Lua scripts load on the node that owns the key, and
 * blocking reads run on a reserved cluster connection.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { RateLimiter } from "effect/persistence"
import { KeyValue } from "../../../src/storage/KeyValue.ts"
import { Locks } from "../../../src/storage/Locks.ts"
import { Stores } from "../../../src/storage/Stores.ts"
import { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import { makeTempDir } from "./Implementations.ts"
import { hasRedisServer, startRedisCluster } from "./RedisServer.ts"

describe.runIf(hasRedisServer)("Stores on Redis Cluster", () => {
  it.live(
    "runs every store across the cluster nodes",
    () =>
      Effect.gen(function* () {
        const dir = yield* makeTempDir("redis-cluster")
        const ports = yield* startRedisCluster(dir)
        const redisUrl = Redacted.make(ports.map((port) => `127.0.0.1:${port}`).join(","))
        const context = yield* Layer.build(
          Stores.layer({ redisUrl, dataDir: dir, connectTimeout: "10 seconds" }),
        )
        const stores = Context.get(context, Stores)
        assert.match(stores.description, /^redis cluster 127\.0\.0\.1:/)
        yield* stores.ping

        const kv = Context.get(context, KeyValue)
        const keys = Array.from({ length: 20 }, (_, i) => `state:${i}`)
        for (const key of keys) assert.isTrue(yield* kv.setIfAbsent(key, key, "1 minute"))
        for (const key of keys) assert.deepStrictEqual(yield* kv.take(key), Option.some(key))

        const locks = Context.get(context, Locks)
        for (const key of ["a", "b", "c", "d"]) {
          assert.strictEqual(yield* locks.withLock(key, "5 seconds", Effect.succeed(key)), key)
        }

        const queue = Context.get(context, StreamQueue)
        yield* queue.ensureGroup("webhooks", "workers")
        const reader = yield* Effect.forkChild(
          queue.read("webhooks", "workers", "worker-1", { count: 10, block: "10 seconds" }),
        )
        yield* Effect.sleep("100 millis")
        const id = yield* queue.append("webhooks", "payload")
        assert.deepStrictEqual(yield* Fiber.join(reader), [
          { id, payload: "payload", deliveries: 1 },
        ])
        yield* Effect.sleep("50 millis")
        const claimed = yield* queue.claimStale("webhooks", "workers", "worker-2", {
          minIdle: "10 millis",
          count: 10,
        })
        assert.deepStrictEqual(claimed, [{ id, payload: "payload", deliveries: 2 }])
        assert.strictEqual(yield* queue.ack("webhooks", "workers", [id]), 1)

        const limiter = yield* RateLimiter.make.pipe(Effect.provide(context))
        for (const key of ["slack", "github", "google"]) {
          const result = yield* limiter.consume({ key, limit: 5, window: "1 minute" })
          assert.strictEqual(result.remaining, 4)
        }
      }),
    60_000,
  )
})
