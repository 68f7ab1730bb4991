/**
 * A worker process killed with SIGKILL in the middle of a batch: a second
 * worker claims what the first left pending, every acknowledged event
 * reaches the destination, and events the first worker finished are not
 * delivered again. Needs the Postgres and Redis servers, since separate
 * processes share nothing else.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { hasServers, testDatabaseUrl, testRedisUrl } from "../support/StoreModes.ts"
import { startTestApp } from "../support/TestApp.ts"
import { startDestination } from "./support/Destination.ts"
import { standardHeaders } from "./support/Signers.ts"
import { createProvider, deliver, eventually, randomKey } from "./support/WebhookTestApp.ts"
import { startWorkerProcess } from "./support/WorkerProcess.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const EVENTS = 120
const CONCURRENCY = 4

describe.skipIf(!hasServers)("worker crash (servers stores)", () => {
  it.live(
    "delivers every event after a worker is killed mid-batch",
    () =>
      Effect.gen(function* () {
        // The API runs in this process without workers; the workers are
        // separate processes on the same Postgres and Redis.
        const app = yield* startTestApp({ mode: "servers", settings: { role: "api" } })
        const destination = yield* startDestination
        // A slow destination keeps a batch in flight when the kill comes.
        destination.respond(async () => {
          await Bun.sleep(25)
          return new Response("ok")
        })
        const key = randomKey("crash")
        yield* createProvider(app, key, {
          template: "standard-webhooks",
          webhook_secret: SECRET,
          destination_url: destination.url,
        })

        const workerEnv = {
          DATABASE_URL: testDatabaseUrl!,
          REDIS_URL: testRedisUrl!,
          REDIS_KEY_PREFIX: app.settings.redisKeyPrefix,
          // The destination is a loopback http URL.
          ALLOW_HTTP_LOOPBACK_PROVIDERS: "true",
          DELIVERY_CONCURRENCY: String(CONCURRENCY),
          // One attempt of at most 2 s: a pending entry counts as abandoned
          // after 7 s, so the second worker claims it within the test.
          DELIVERY_MAX_ATTEMPTS: "1",
          PROVIDER_TIMEOUT: "2s",
        }
        const first = yield* startWorkerProcess(workerEnv)
        yield* eventually(
          Effect.sync(() => expect(first.output()).toContain("webhook worker started")),
        )

        const ids: Array<string> = []
        for (let index = 0; index < EVENTS; index++) {
          const id = `msg_crash_${index}`
          const body = JSON.stringify({ index })
          const response = yield* deliver(
            app,
            `/webhooks/${key}`,
            body,
            standardHeaders(SECRET, body, id),
          )
          expect(response.status).toBe(200)
          ids.push(id)
        }

        yield* eventually(
          Effect.sync(() => expect(destination.received.length).toBeGreaterThan(10)),
        )
        const signal = yield* first.kill
        expect(signal).toBe(9)
        const deliveredBeforeKill = new Set(
          destination.received.map((delivery) => delivery.payload.data.delivery_id),
        )
        expect(deliveredBeforeKill.size).toBeLessThan(EVENTS)

        const second = yield* startWorkerProcess(workerEnv)
        yield* eventually(
          Effect.sync(() => expect(second.output()).toContain("webhook worker started")),
        )
        yield* eventually(
          Effect.sync(() => {
            const delivered = new Set(
              destination.received.map((delivery) => delivery.payload.data.delivery_id),
            )
            expect(ids.filter((id) => !delivered.has(id))).toEqual([])
          }),
        ).pipe(Effect.tapError(() => Effect.sync(() => console.error(second.output()))))

        // The second worker took over entries the first one held when it died.
        expect(second.output()).toContain("claimed webhook events left pending by another worker")

        // Every event arrives at least once. A second delivery happens only
        // for entries the first worker had delivered but not yet marked done,
        // because they were in flight or their marker write had not reached
        // Redis when the process died. The bound is an estimate; the
        // guarantee is the same webhook-id on every repeat, checked below.
        const counts = new Map<string, number>()
        for (const delivery of destination.received) {
          const id = delivery.payload.data.delivery_id as string
          counts.set(id, (counts.get(id) ?? 0) + 1)
        }
        const repeated = [...counts.entries()].filter(([, count]) => count > 1)
        expect(repeated.length).toBeLessThanOrEqual(CONCURRENCY * 3)
        for (const [id] of repeated) {
          // A repeat carries the same webhook-id, so the destination can drop it.
          const eventIds = new Set(
            destination.received
              .filter((delivery) => delivery.payload.data.delivery_id === id)
              .map((delivery) => delivery.headers.get("webhook-id")),
          )
          expect(eventIds.size).toBe(1)
        }
        expect(Option.isSome(app.settings.redisUrl)).toBe(true)
      }).pipe(Effect.scoped),
    { timeout: 120_000 },
  )
})
