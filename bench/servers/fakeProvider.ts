/**
 * A loopback OAuth 2.0 provider for the benchmarks: token and revocation
 * endpoints that answer after a latency chosen per path, so one process
 * serves providers of different speeds. Paths are `/p/<latency ms>/token`
 * and `/p/<latency ms>/revoke`. It counts refresh-token grants per refresh
 * token, to check that concurrent callers cause exactly one refresh.
 *
 * A code starting with `short-` gets a token that expires in 1 second, for
 * the refresh scenarios; every other grant lasts an hour.
 *
 * Usage: PORT=<port> bun bench/servers/fakeProvider.ts
 */

const port = Number(process.env.PORT ?? 0)

let tokenRequests = 0
let refreshRequests = 0
const refreshesByToken = new Map<string, number>()
let issued = 0

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  })

const readParams = async (request: Request): Promise<URLSearchParams> => {
  const text = await request.text()
  if ((request.headers.get("content-type") ?? "").includes("application/json")) {
    const parsed = JSON.parse(text) as Record<string, unknown>
    return new URLSearchParams(
      Object.entries(parsed).map(([name, value]): [string, string] => [name, String(value)]),
    )
  }
  return new URLSearchParams(text)
}

const token = (params: URLSearchParams) => {
  tokenRequests++
  issued++
  const grantType = params.get("grant_type")
  if (grantType === "authorization_code") {
    const code = params.get("code") ?? ""
    if (code === "")
      return json({ error: "invalid_request", error_description: "code missing" }, 400)
    return json({
      access_token: `at-${issued}-${code}`,
      token_type: "Bearer",
      expires_in: code.startsWith("short-") ? 1 : 3600,
      refresh_token: `rt-${code}`,
      scope: "read write",
    })
  }
  if (grantType === "refresh_token") {
    refreshRequests++
    const refreshToken = params.get("refresh_token") ?? ""
    refreshesByToken.set(refreshToken, (refreshesByToken.get(refreshToken) ?? 0) + 1)
    // No refresh_token in the answer: RFC 6749 §6 lets the client keep the old one.
    return json({ access_token: `at-${issued}-r`, token_type: "Bearer", expires_in: 3600 })
  }
  return json({ error: "unsupported_grant_type" }, 400)
}

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  // The service keeps connections open between bursts; never cut them first.
  idleTimeout: 0,
  fetch: async (request) => {
    const url = new URL(request.url)
    if (url.pathname === "/stats") {
      const refreshToken = url.searchParams.get("refresh_token")
      return json({
        token_requests: tokenRequests,
        refresh_requests: refreshRequests,
        refreshes_of_token:
          refreshToken === null ? null : (refreshesByToken.get(refreshToken) ?? 0),
      })
    }
    const match = /^\/p\/(\d+)\/(token|revoke)$/.exec(url.pathname)
    if (match === null || request.method !== "POST") return json({ error: "not_found" }, 404)
    const params = await readParams(request)
    const latency = Number(match[1])
    if (latency > 0) await Bun.sleep(latency)
    return match[2] === "token" ? token(params) : new Response(null, { status: 200 })
  },
})

console.log(`fake provider listening on ${server.url}`)
