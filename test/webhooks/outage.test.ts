/**
 * Redis stops while providers keep delivering: the route responds 503 so the
 * providers retry, and after Redis restarts every event acknowledged before
 * the stop is still there and reaches the destination. Runs on a private
 * Redis server, with the embedded Postgres.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { startDestination } from "./support/Destination.ts"
import { hasRedisServer, startPrivateRedis } from "./support/RedisServer.ts"
import { standardHeaders } from "./support/Signers.ts"
import {
  createProvider,
  deliver,
  errorCode,
  eventually,
  randomKey,
  startWebhookApp,
} from "./support/WebhookTestApp.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

describe.skipIf(!hasRedisServer)("redis outage", () => {
  it.live(
    "answers 503 while Redis is down and loses no acknowledged event",
    () =>
      Effect.gen(function* () {
        const redis = yield* startPrivateRedis
        const app = yield* startWebhookApp("embedded", {
          redisUrl: Option.some(Redacted.make(redis.url)),
        })
        const destination = yield* startDestination
        // Deliveries are held until Redis is back, so the acknowledged events
        // are still pending in the stream when Redis stops.
        let release: () => void = () => undefined
        const gate = new Promise<void>((resolve) => {
          release = resolve
        })
        destination.respond(async () => {
          await gate
          return new Response("ok")
        })
        const key = randomKey("outage")
        yield* createProvider(app, key, {
          template: "standard-webhooks",
          webhook_secret: SECRET,
          destination_url: destination.url,
        })
        const post = (id: string) => {
          const body = JSON.stringify({ id })
          return deliver(app, `/webhooks/${key}`, body, standardHeaders(SECRET, body, id))
        }

        const acknowledged: Array<string> = []
        for (let index = 0; index < 20; index++) {
          const response = yield* post(`msg_before_${index}`)
          expect(response.status).toBe(200)
          acknowledged.push(`msg_before_${index}`)
        }

        yield* redis.stop
        const during = yield* post("msg_during")
        expect(during.status).toBe(503)
        expect(errorCode(during.text)).toBe("store_unavailable")
        expect(during.headers.get("retry-after")).toBe("1")

        yield* redis.start
        const stream = `${app.settings.redisKeyPrefix}webhooks:events`
        const length = Bun.spawnSync(["redis-cli", "-u", redis.url, "xlen", stream])
        expect(Number(length.stdout.toString().trim())).toBe(acknowledged.length)
        release()
        // The provider's retry of the rejected delivery is accepted once Redis is back.
        yield* eventually(
          Effect.map(post("msg_during"), (response) => expect(response.status).toBe(200)),
        )
        acknowledged.push("msg_during")

        yield* eventually(
          Effect.sync(() => {
            const delivered = new Set(
              [...destination.received]
                .filter((delivery) => delivery.headers.get("webhook-id") !== null)
                .map((delivery) => delivery.payload.data.delivery_id),
            )
            const accepted = new Set(
              destination.received
                .filter((delivery) =>
                  destination.acceptedIds().has(delivery.headers.get("webhook-id")!),
                )
                .map((delivery) => delivery.payload.data.delivery_id),
            )
            expect(acknowledged.filter((id) => !delivered.has(id))).toEqual([])
            expect(acknowledged.filter((id) => !accepted.has(id))).toEqual([])
          }),
        )
      }).pipe(Effect.scoped),
    { timeout: 120_000 },
  )
})
