/**
 * Effect's Redis-backed stores running on the ioredis-backed `Redis` service.
 */
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Fiber, Layer, Queue, Schema } from "effect"
import { CircuitBreaker, PersistedQueue, RateLimiter, Redis } from "effect/persistence"
import { testRedisUrl } from "../../support/StoreModes.ts"
import { randomPrefix, redisConnection } from "./Implementations.ts"

class ProviderDown extends Data.TaggedError("ProviderDown") {}

describe.runIf(testRedisUrl !== undefined)("Effect stores on Redis", () => {
  it.live("RateLimiter rejects past the limit", () => {
    const prefix = randomPrefix()
    return Effect.gen(function* () {
      const limiter = yield* RateLimiter.RateLimiter
      const consume = limiter.consume({
        key: "slack",
        limit: 2,
        window: "1 minute",
        onExceeded: "fail",
      })
      const first = yield* consume
      const second = yield* consume
      assert.strictEqual(first.remaining, 1)
      assert.strictEqual(second.remaining, 0)
      const exceeded = yield* Effect.flip(consume)
      assert.strictEqual(exceeded.reason._tag, "RateLimitExceeded")
    }).pipe(
      Effect.provide(
        RateLimiter.layer.pipe(
          Layer.provide(RateLimiter.layerStoreRedis({ prefix })),
          Layer.provide(redisConnection(prefix)),
        ),
      ),
    )
  })

  it.live("CircuitBreaker opens for every client", () => {
    const prefix = randomPrefix()
    // Each breaker has its own store and connection, as two processes would.
    const breakerOn = Effect.gen(function* () {
      const store = yield* Layer.build(
        CircuitBreaker.layerStoreRedis({ prefix }).pipe(Layer.provide(redisConnection(prefix))),
      )
      return yield* CircuitBreaker.make({
        tripPolicy: CircuitBreaker.consecutive(2),
        openDuration: "1 minute",
      }).pipe(Effect.provide(store))
    })

    return Effect.gen(function* () {
      const first = yield* breakerOn
      const second = yield* breakerOn
      const call = Effect.fail(new ProviderDown()).pipe(first.execute({ key: "github" }))
      yield* Effect.flip(call)
      yield* Effect.flip(call)

      const rejected = yield* Effect.flip(
        Effect.succeed("ok").pipe(second.execute({ key: "github" })),
      )
      assert.strictEqual(rejected._tag, "CircuitBreakerError")
      if (rejected._tag === "CircuitBreakerError")
        assert.strictEqual(rejected.reason._tag, "CircuitOpen")
      assert.strictEqual((yield* second.state("github"))._tag, "Open")
    })
  })

  it.live("PersistedQueue delivers an offered element", () => {
    const prefix = randomPrefix()
    return Effect.gen(function* () {
      const queue = yield* PersistedQueue.make({ name: "jobs", schema: Schema.String })
      yield* queue.offer("refresh integration-1")
      const taken = yield* queue.take((value, metadata) =>
        Effect.succeed([value, metadata.attempts] as const),
      )
      assert.deepStrictEqual(taken, ["refresh integration-1", 1])
    }).pipe(
      Effect.provide(
        PersistedQueue.layer.pipe(
          Layer.provide(PersistedQueue.layerStoreRedis({ prefix })),
          Layer.provide(redisConnection(prefix)),
        ),
      ),
    )
  })

  it.live("Redis service delivers published messages", () => {
    const prefix = randomPrefix()
    return Effect.gen(function* () {
      const redis = yield* Redis.Redis
      const messages = yield* redis.subscribe(`${prefix}channel`)
      yield* redis.send("PUBLISH", `${prefix}channel`, "hello")
      assert.deepStrictEqual(yield* Queue.take(messages), {
        channel: `${prefix}channel`,
        message: "hello",
      })
    }).pipe(Effect.provide(redisConnection(prefix)))
  })

  it.live("Redis service reserves a connection for blocking commands", () => {
    const prefix = randomPrefix()
    return Effect.gen(function* () {
      const redis = yield* Redis.Redis
      const popped = yield* Effect.forkChild(
        Effect.scoped(
          Effect.flatMap(redis.reserve, (connection) =>
            connection.send("BLPOP", `${prefix}list`, "10"),
          ),
        ),
      )
      // The shared connection stays free while BLPOP blocks on the reserved one.
      yield* Effect.sleep("50 millis")
      yield* redis.send("RPUSH", `${prefix}list`, "job")
      assert.deepStrictEqual(yield* Fiber.join(popped), [`${prefix}list`, "job"])
    }).pipe(Effect.provide(redisConnection(prefix)))
  })
})
