/**
 * A loopback HTTP server that plays a provider's token and revocation
 * endpoints. Each test sets the handler of a path and reads back the
 * requests the service sent, so quirks and failures are reproduced with the
 * exact bytes a real provider sends.
 */
import { Effect } from "effect"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Headers
  readonly body: string
  /** The body parsed as a form, or as JSON turned into a form, for assertions. */
  readonly params: URLSearchParams
}

export type Handler = (request: RecordedRequest) => Response | Promise<Response>

export interface FakeProvider {
  readonly url: string
  readonly requests: Array<RecordedRequest>
  /** Sets the handler of `path`; unknown paths answer 404. */
  readonly on: (path: string, handler: Handler) => void
  /** Requests received on `path`. */
  readonly requestsTo: (path: string) => ReadonlyArray<RecordedRequest>
}

const parseParams = (contentType: string, body: string): URLSearchParams => {
  if (contentType.includes("application/json") && body !== "") {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>
      return new URLSearchParams(
        Object.entries(parsed).map(([name, value]): [string, string] => [name, String(value)]),
      )
    } catch {
      return new URLSearchParams()
    }
  }
  return new URLSearchParams(body)
}

/** Starts the server for the scope's lifetime. */
export const startFakeProvider = Effect.acquireRelease(
  Effect.sync(() => {
    const handlers = new Map<string, Handler>()
    const requests: Array<RecordedRequest> = []
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        const url = new URL(request.url)
        const body = await request.text()
        const recorded: RecordedRequest = {
          method: request.method,
          path: url.pathname,
          headers: request.headers,
          body,
          params: parseParams(request.headers.get("content-type") ?? "", body),
        }
        requests.push(recorded)
        const handler = handlers.get(url.pathname)
        return handler === undefined
          ? new Response("not found", { status: 404 })
          : handler(recorded)
      },
    })
    const provider: FakeProvider = {
      url: `http://127.0.0.1:${server.port}`,
      requests,
      on: (path, handler) => {
        handlers.set(path, handler)
      },
      requestsTo: (path) => requests.filter((request) => request.path === path),
    }
    return { server, provider }
  }),
  ({ server }) => Effect.promise(() => server.stop(true)),
).pipe(Effect.map(({ provider }) => provider))

/** A JSON response, as most token endpoints send. */
export const jsonResponse = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  })

/** A form-encoded response, as GitHub sends without `Accept: application/json`. */
export const formResponse = (body: string, status = 200) =>
  new Response(body, {
    status,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
  })
