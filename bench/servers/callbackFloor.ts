/**
 * The OAuth callback floor: the least work a callback needs. `GET /callback`
 * consumes the state with one Redis GETDEL, posts the code to the provider's
 * token endpoint and upserts one Postgres row, then redirects. `POST /session`
 * stores a state, so the floor runs the same two-step flow as the service.
 * No encryption, PKCE check, metrics or events: the service's callback is
 * measured against this.
 *
 * Usage: PORT=<port> REDIS_URL=... DATABASE_URL=... TOKEN_URL=<provider token URL>
 *   bun bench/servers/callbackFloor.ts
 */
import { randomBytes } from "node:crypto"
import { SQL } from "bun"
import IORedis from "ioredis"

const port = Number(process.env.PORT ?? 0)
const tokenUrl = process.env.TOKEN_URL ?? ""
if (tokenUrl === "") throw new Error("TOKEN_URL is missing")

const redis = new IORedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableAutoPipelining: true,
})
// Ten connections, the same pool size as the service's default.
const sql = new SQL({ url: process.env.DATABASE_URL ?? "", max: 10 })

await sql`CREATE TABLE IF NOT EXISTS bench_floor_integrations (
  organization_id text NOT NULL,
  provider text NOT NULL,
  access_token text NOT NULL,
  refresh_token text,
  expires_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, provider)
)`

const session = async (request: Request) => {
  const { organization_id: organizationId } = (await request.json()) as { organization_id: string }
  const state = randomBytes(32).toString("base64url")
  await redis.set(`floor:state:${state}`, organizationId, "EX", 600)
  return Response.json(
    { authorization_url: `http://127.0.0.1/authorize?state=${state}` },
    { status: 201 },
  )
}

const callback = async (url: URL) => {
  const state = url.searchParams.get("state") ?? ""
  const code = url.searchParams.get("code") ?? ""
  const organizationId = await redis.getdel(`floor:state:${state}`)
  if (organizationId === null) return new Response("unknown state", { status: 400 })

  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "authorization_code", code }),
  })
  if (!response.ok) return new Response("token exchange failed", { status: 502 })
  const token = (await response.json()) as {
    access_token: string
    refresh_token?: string
    expires_in?: number
  }
  const expiresAt = new Date(Date.now() + (token.expires_in ?? 3600) * 1000)
  await sql`INSERT INTO bench_floor_integrations
      (organization_id, provider, access_token, refresh_token, expires_at)
    VALUES (${organizationId}, 'floor', ${token.access_token}, ${token.refresh_token ?? null}, ${expiresAt})
    ON CONFLICT (organization_id, provider) DO UPDATE SET
      access_token = excluded.access_token,
      refresh_token = excluded.refresh_token,
      expires_at = excluded.expires_at,
      updated_at = now()`
  return new Response(null, {
    status: 302,
    headers: { location: "http://127.0.0.1/done?status=connected" },
  })
}

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  idleTimeout: 120,
  fetch: (request) => {
    const url = new URL(request.url)
    if (request.method === "POST" && url.pathname === "/session") return session(request)
    if (request.method === "GET" && url.pathname === "/callback") return callback(url)
    if (url.pathname === "/health") return new Response("ok")
    return new Response("not found", { status: 404 })
  },
})

console.log(`callback floor listening on ${server.url}`)
