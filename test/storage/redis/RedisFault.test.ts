/**
 * Behaviour while Redis is down: commands fail fast with a StoreError instead
 * of queueing, and succeed again once Redis is back on the same address.
 * Each test runs its own redis-server on a free loopback port.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Redacted, Schedule } from "effect"
import { KeyValue } from "../../../src/storage/KeyValue.ts"
import * as KeyValueRedis from "../../../src/storage/KeyValueRedis.ts"
import * as RedisConnection from "../../../src/storage/RedisConnection.ts"
import { RedisUnavailable } from "../../../src/storage/RedisConnection.ts"
import { StoreError } from "../../../src/storage/StoreError.ts"
import { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import * as StreamQueueRedis from "../../../src/storage/StreamQueueRedis.ts"
import { freePort, hasRedisServer, startRedisServer } from "./RedisServer.ts"

/** Fails the test if `effect` neither succeeds nor fails within `seconds`. */
const within = <A, E, R>(seconds: number, operation: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.timeoutOrElse({
      duration: `${seconds} seconds`,
      orElse: () => Effect.die(new Error(`${operation} did not finish within ${seconds} seconds`)),
    }),
  )

const storesOn = (port: number) =>
  Effect.map(
    Layer.build(
      Layer.mergeAll(KeyValueRedis.layer(), StreamQueueRedis.layer()).pipe(
        Layer.provideMerge(
          RedisConnection.layer({ url: Redacted.make(`redis://127.0.0.1:${port}`) }),
        ),
      ),
    ),
    (context) => ({ queue: Context.get(context, StreamQueue), kv: Context.get(context, KeyValue) }),
  )

describe.runIf(hasRedisServer)("Redis faults", () => {
  it.live("append fails fast while Redis is down and recovers", () =>
    Effect.gen(function* () {
      const server = yield* startRedisServer(yield* freePort)
      const { queue, kv } = yield* storesOn(server.port)
      yield* queue.append("webhooks", "before")

      // A frozen server keeps the connection open, so commandTimeout ends the wait.
      yield* server.pause
      const frozen = yield* within(
        3,
        "append on a frozen Redis",
        Effect.flip(queue.append("webhooks", "frozen")),
      )
      assert.instanceOf(frozen, StoreError)
      assert.strictEqual(frozen.reason, "timeout")
      yield* server.resume

      yield* server.kill
      const down = yield* within(
        3,
        "append on a stopped Redis",
        Effect.flip(queue.append("webhooks", "down")),
      )
      assert.instanceOf(down, StoreError)
      assert.strictEqual(down.reason, "unavailable")
      assert.strictEqual(down.code, "store_unavailable")
      const claim = yield* within(
        3,
        "setIfAbsent on a stopped Redis",
        Effect.flip(kv.setIfAbsent("id", "1", "1 minute")),
      )
      assert.strictEqual(claim.reason, "unavailable")

      yield* server.restart
      const id = yield* within(
        15,
        "append after the restart",
        queue
          .append("webhooks", "after")
          .pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })),
      )
      assert.match(id, /^\d+-\d+$/)
      assert.isTrue(yield* kv.setIfAbsent("id", "1", "1 minute"))
    }),
  )

  it.live("blocking read fails when Redis stops", () =>
    Effect.gen(function* () {
      const server = yield* startRedisServer(yield* freePort)
      const { queue } = yield* storesOn(server.port)
      yield* queue.ensureGroup("webhooks", "workers")
      const reader = yield* Effect.forkChild(
        queue.read("webhooks", "workers", "worker-1", { count: 10, block: "30 seconds" }),
      )
      yield* Effect.sleep("100 millis")
      yield* server.kill

      const exit = yield* within(3, "blocking read on a stopped Redis", Fiber.await(reader))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined
      assert.instanceOf(error?._tag === "Some" ? error.value : undefined, StoreError)
    }),
  )

  it.live("start-up waits for Redis to come up", () =>
    Effect.gen(function* () {
      const port = yield* freePort
      const url = Redacted.make(`redis://127.0.0.1:${port}`)
      const connecting = yield* Effect.forkChild(
        Layer.build(
          KeyValueRedis.layer().pipe(
            Layer.provide(RedisConnection.layer({ url, connectTimeout: "20 seconds" })),
          ),
        ),
      )
      yield* Effect.sleep("300 millis")
      yield* startRedisServer(port)

      const context = yield* within(15, "start-up after Redis came up", Fiber.join(connecting))
      assert.isTrue(yield* Context.get(context, KeyValue).setIfAbsent("id", "1", "1 minute"))
    }),
  )

  it.live("start-up gives up after connectTimeout", () =>
    Effect.gen(function* () {
      const port = yield* freePort
      const url = Redacted.make(`redis://:s3cret-password@127.0.0.1:${port}`)
      const error = yield* Effect.flip(
        Layer.build(RedisConnection.layer({ url, connectTimeout: "300 millis" })),
      )
      assert.instanceOf(error, RedisUnavailable)
      assert.strictEqual(error.reason, "connect_timeout")
      assert.strictEqual(error.code, "redis_unavailable")
      assert.include(error.message, "REDIS_URL")
      assert.include(error.message, `redis://:***@127.0.0.1:${port}`)
      assert.notInclude(error.message, "s3cret")
    }),
  )

  it.live("start-up rejects a malformed REDIS_URL", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(RedisConnection.layer({ url: Redacted.make("http://user:pw@127.0.0.1:6379") })),
      )
      assert.instanceOf(error, RedisUnavailable)
      assert.strictEqual(error.reason, "invalid_url")
      assert.include(error.message, "REDIS_URL")
      assert.notInclude(error.message, ":pw@")
    }),
  )
})
