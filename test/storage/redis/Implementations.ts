/**
 * The two implementations of each store interface, so one test table runs
 * against both: in process always, and on Redis when TEST_REDIS_URL is set.
 * Redis keys carry a random prefix, and every key under it is deleted when
 * the test's scope closes.
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, Redacted, type Scope } from "effect"
import type { KeyValue } from "../../../src/storage/KeyValue.ts"
import * as KeyValueMemory from "../../../src/storage/KeyValueMemory.ts"
import * as KeyValueRedis from "../../../src/storage/KeyValueRedis.ts"
import { Locks } from "../../../src/storage/Locks.ts"
import * as LocksMemory from "../../../src/storage/LocksMemory.ts"
import * as LocksRedis from "../../../src/storage/LocksRedis.ts"
import * as RedisConnection from "../../../src/storage/RedisConnection.ts"
import { RedisClient } from "../../../src/storage/RedisConnection.ts"
import type { StreamQueue } from "../../../src/storage/StreamQueue.ts"
import * as StreamQueueMemory from "../../../src/storage/StreamQueueMemory.ts"
import * as StreamQueueRedis from "../../../src/storage/StreamQueueRedis.ts"
import { testRedisUrl } from "../../support/StoreModes.ts"

export interface Implementation {
  readonly name: string
  readonly keyValue: () => Layer.Layer<KeyValue, unknown>
  readonly streamQueue: () => Layer.Layer<StreamQueue, unknown>
  /**
   * Two `Locks` on one key space. On Redis each has its own connection, as
   * two processes would.
   */
  readonly twoLocks: Effect.Effect<
    readonly [Locks["Service"], Locks["Service"]],
    unknown,
    Scope.Scope
  >
}

/** A fresh temporary directory, removed when the scope closes. */
export const makeTempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), `${prefix}-`))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

export const randomPrefix = () => `test:${randomUUID().slice(0, 8)}:`

/** A Redis connection that deletes every key under `prefix` when it closes. */
export const redisConnection = (prefix: string, url: string = testRedisUrl ?? "") =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const { client } = yield* RedisClient
      yield* Effect.addFinalizer(() =>
        Effect.promise(async () => {
          let cursor = "0"
          do {
            const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
            if (keys.length > 0) await client.del(...keys)
            cursor = next
          } while (cursor !== "0")
        }).pipe(Effect.ignore),
      )
    }),
  ).pipe(Layer.provideMerge(RedisConnection.layer({ url: Redacted.make(url) })))

const memory: Implementation = {
  name: "in-process",
  keyValue: () => KeyValueMemory.layer(),
  streamQueue: () => StreamQueueMemory.layer(),
  twoLocks: Effect.map(Layer.build(LocksMemory.layer), (context) => {
    const locks = Context.get(context, Locks)
    return [locks, locks] as const
  }),
}

const redis = (url: string): Implementation => ({
  name: "redis",
  keyValue: () => {
    const prefix = randomPrefix()
    return KeyValueRedis.layer({ keyPrefix: prefix }).pipe(
      Layer.provide(redisConnection(prefix, url)),
    )
  },
  streamQueue: () => {
    const prefix = randomPrefix()
    return StreamQueueRedis.layer({ keyPrefix: prefix }).pipe(
      Layer.provide(redisConnection(prefix, url)),
    )
  },
  twoLocks: Effect.gen(function* () {
    const prefix = randomPrefix()
    const open = Layer.build(
      LocksRedis.layer({ keyPrefix: prefix }).pipe(Layer.provide(redisConnection(prefix, url))),
    )
    const first = yield* open
    const second = yield* open
    return [Context.get(first, Locks), Context.get(second, Locks)] as const
  }),
})

export const implementations: ReadonlyArray<Implementation> =
  testRedisUrl === undefined ? [memory] : [memory, redis(testRedisUrl)]
