/**
 * The webhook floor: the least work that accepting a GitHub webhook needs.
 * It verifies `X-Hub-Signature-256` (HMAC-SHA256 of the raw body, hex, after
 * `sha256=`), appends the body and delivery id to a Redis stream with one
 * XADD, and answers 200. No deduplication, routing, metrics or logging: the
 * service's ingest route is measured against this.
 *
 * Usage: PORT=<port> REDIS_URL=redis://127.0.0.1:6379/5 WEBHOOK_SECRET=<secret>
 *   STREAM=<key> bun bench/servers/webhookFloor.ts
 */
import { timingSafeEqual } from "node:crypto"
import IORedis from "ioredis"

const port = Number(process.env.PORT ?? 0)
const secret = process.env.WEBHOOK_SECRET ?? ""
const stream = process.env.STREAM ?? "bench:floor:events"
if (secret === "") throw new Error("WEBHOOK_SECRET is missing")

// Auto-pipelining sends the commands of one event-loop tick in one write.
const redis = new IORedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableAutoPipelining: true,
})

const accepted = () =>
  new Response('{"status":"accepted"}', { headers: { "content-type": "application/json" } })
const rejected = () => new Response('{"error":"signature_mismatch"}', { status: 401 })

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  fetch: async (request) => {
    if (request.method === "GET") return new Response("ok")
    const body = new Uint8Array(await request.arrayBuffer())
    const header = request.headers.get("x-hub-signature-256") ?? ""
    if (!header.startsWith("sha256=")) return rejected()
    const expected = new Bun.CryptoHasher("sha256", secret).update(body).digest()
    const given = Buffer.from(header.slice(7), "hex")
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return rejected()
    const delivery = request.headers.get("x-github-delivery") ?? ""
    // MAXLEN ~ keeps the floor's stream bounded; the service's workers delete what they process.
    await redis.xadd(stream, "MAXLEN", "~", "100000", "*", "d", delivery, "b", Buffer.from(body))
    return accepted()
  },
})

console.log(`webhook floor listening on ${server.url}`)
