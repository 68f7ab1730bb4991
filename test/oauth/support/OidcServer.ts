/**
 * A real, standards-compliant authorization server (`oidc-provider`) on a
 * loopback port, and a small browser that walks its login and consent pages
 * over HTTP, keeping cookies by hand, until the provider redirects to the
 * service's callback.
 */
import type { AddressInfo } from "node:net"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import Provider from "oidc-provider"

export const OIDC_CLIENT_ID = "service-client"
export const OIDC_CLIENT_SECRET = "service-client-secret-0123456789"

export interface OidcServer {
  readonly issuer: string
  readonly provider: Provider
  /** Provider events in order, such as `refresh_token.consumed`. */
  readonly events: Array<string>
}

/** Starts oidc-provider with one confidential client whose redirect URI is `callbackUrl`. */
export const startOidcServer = (callbackUrl: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const { createServer } = await import("node:http")
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: OIDC_CLIENT_ID,
            client_secret: OIDC_CLIENT_SECRET,
            redirect_uris: [callbackUrl],
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"],
            token_endpoint_auth_method: "client_secret_basic",
          },
        ],
        pkce: { required: () => true },
        features: { revocation: { enabled: true }, devInteractions: { enabled: true } },
        rotateRefreshToken: true,
        ttl: {
          AccessToken: 3600,
          RefreshToken: 86_400,
          IdToken: 3600,
          Interaction: 600,
          Session: 3600,
          Grant: 86_400,
        },
        cookies: { keys: ["test-cookie-key-0123456789abcdef"] },
        findAccount: (_context: unknown, sub: string) => ({
          accountId: sub,
          claims: () => ({ sub }),
        }),
      })
      const events: Array<string> = []
      for (const name of [
        "access_token.saved",
        "access_token.destroyed",
        "refresh_token.saved",
        "refresh_token.consumed",
        "refresh_token.destroyed",
        "grant.revoked",
        "grant.success",
      ]) {
        provider.on(name, () => events.push(name))
      }
      server.on("request", provider.callback())
      return { server, oidc: { issuer, provider, events } satisfies OidcServer }
    }),
    ({ server }) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          }),
      ),
  ).pipe(Effect.map(({ oidc }) => oidc))

/** Cookies by name, sent to every path of the one host this browser visits. */
const storeCookies = (jar: Map<string, string>, response: Response) => {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(";")
    const separator = pair?.indexOf("=") ?? -1
    if (pair === undefined || separator < 0) continue
    const name = pair.slice(0, separator).trim()
    const value = pair.slice(separator + 1).trim()
    if (value === "" || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name)
    else jar.set(name, value)
  }
}

const cookieHeader = (jar: Map<string, string>) =>
  [...jar].map(([name, value]) => `${name}=${value}`).join("; ")

const formAction = (html: string): string | undefined =>
  /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&")

/**
 * Opens the authorization URL, signs in as `user`, grants consent, and
 * returns the URL the provider redirects to, which starts with `callbackUrl`.
 */
export const authorizeInBrowser = (authorizationUrl: string, callbackUrl: string, user: string) =>
  Effect.promise(async () => {
    const jar = new Map<string, string>()
    let url = authorizationUrl
    let init: RequestInit = {}
    for (let step = 0; step < 20; step++) {
      if (url.startsWith(callbackUrl)) return url
      const response = await fetch(url, {
        ...init,
        redirect: "manual",
        headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader(jar) },
      })
      storeCookies(jar, response)
      const location = response.headers.get("location")
      if (location !== null) {
        url = new URL(location, url).toString()
        init = {}
        continue
      }
      const html = await response.text()
      expect(response.status, html.slice(0, 500)).toBe(200)
      const action = formAction(html)
      expect(action, html.slice(0, 500)).toBeDefined()
      const isLogin = html.includes('name="login"')
      const fields = isLogin
        ? { prompt: "login", login: user, password: "any-password" }
        : { prompt: "consent" }
      url = new URL(action ?? "", url).toString()
      init = {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      }
    }
    throw new Error("the authorization did not reach the callback within 20 steps")
  })
