/**
 * A queue that cannot take an event. The route responds 503 and gives the
 * claim on the delivery id back. The provider's retry of the same delivery
 * is then queued once the queue has room, rather than dropped as a duplicate.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { hasRedisServer, startPrivateRedis } from "./support/RedisServer.ts"
import { standardHeaders } from "./support/Signers.ts"
import {
  createProvider,
  deliver,
  errorCode,
  randomKey,
  startWebhookApp,
  type WebhookTestApp,
} from "./support/WebhookTestApp.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

const post = (app: WebhookTestApp, key: string, id: string, size = 16) => {
  const body = JSON.stringify({ id, filler: "x".repeat(size) })
  return deliver(app, `/webhooks/${key}`, body, standardHeaders(SECRET, body, id))
}

describe("queue full", () => {
  it.live(
    "gives the claim back when the in-process queue is full",
    () =>
      Effect.gen(function* () {
        // No workers drain the queue, so it fills at its 64 MiB bound.
        const app = yield* startWebhookApp("embedded", { role: "api" })
        const key = randomKey("full")
        yield* createProvider(app, key, { template: "standard-webhooks", webhook_secret: SECRET })
        const size = app.settings.webhookMaxBodyBytes - 200

        let rejected: { status: number; text: string } | undefined
        for (let index = 0; index < 80 && rejected === undefined; index++) {
          const response = yield* post(app, key, `msg_fill_${index}`, size)
          if (response.status !== 200) rejected = response
        }
        expect(rejected?.status, rejected?.text).toBe(503)
        expect(errorCode(rejected!.text)).toBe("store_unavailable")

        const retry = yield* post(app, key, "msg_after_full", size)
        expect(retry.status, retry.text).toBe(503)
        const again = yield* post(app, key, "msg_after_full", size)
        // Still 503, not a 200 "duplicate": the first attempt claimed nothing.
        expect(again.status, again.text).toBe(503)
      }).pipe(Effect.scoped),
    { timeout: 120_000 },
  )

  it.live.skipIf(!hasRedisServer)(
    "gives the claim back when Redis is out of memory",
    () =>
      Effect.gen(function* () {
        const redis = yield* startPrivateRedis
        const app = yield* startWebhookApp("embedded", {
          role: "api",
          redisUrl: Option.some(Redacted.make(redis.url)),
        })
        const key = randomKey("oom")
        yield* createProvider(app, key, { template: "standard-webhooks", webhook_secret: SECRET })
        const cli = (...args: Array<string>) =>
          Bun.spawnSync(["redis-cli", "-u", redis.url, ...args])
            .stdout.toString()
            .trim()

        expect(cli("config", "set", "maxmemory", "1")).toBe("OK")
        const full = yield* post(app, key, "msg_oom")
        expect(full.status).toBe(503)
        expect(full.headers.get("retry-after")).toBe("1")

        expect(cli("config", "set", "maxmemory", "0")).toBe("OK")
        const retried = yield* post(app, key, "msg_oom")
        expect(retried.status).toBe(200)
        expect(JSON.parse(retried.text)).toEqual({ status: "accepted" })
        const duplicate = yield* post(app, key, "msg_oom")
        expect(JSON.parse(duplicate.text)).toEqual({ status: "duplicate" })
      }).pipe(Effect.scoped),
    { timeout: 120_000 },
  )
})
