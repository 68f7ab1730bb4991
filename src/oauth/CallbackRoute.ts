/**
 * `GET /oauth/callback`, where providers send the user back after consent.
 * It is a browser-facing route outside `/v1`, so it responds with a redirect
 * to the application or a small HTML page, never JSON.
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { type CallbackParams, type CallbackResult, OAuthCallback } from "./OAuthCallback.ts"

export const CALLBACK_PATH = "/oauth/callback"

// The callback URL carries the code, so no browser or proxy may keep it, and
// the page must not leak it to another site in a Referer header.
const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

const errorPage = (title: string, message: string): string =>
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p>Return to the application and start the connection again.</p>
</body>
</html>
`

/** Reads one query parameter; a repeated parameter is ambiguous and read as absent. */
const single = (params: URLSearchParams, name: string): string | undefined => {
  const values = params.getAll(name)
  return values.length === 1 ? values[0] : undefined
}

const render = (result: CallbackResult): HttpServerResponse.HttpServerResponse =>
  result._tag === "Redirect"
    ? HttpServerResponse.redirect(result.location, { status: 302, headers: SECURITY_HEADERS })
    : HttpServerResponse.text(errorPage(result.title, result.message), {
        status: result.status,
        headers: SECURITY_HEADERS,
        contentType: "text/html; charset=utf-8",
      })

export const CallbackRoute = HttpRouter.add(
  "GET",
  CALLBACK_PATH,
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    // The router serves HEAD with the GET route, and a HEAD must not
    // consume the single-use state or exchange the code.
    if (request.method !== "GET") {
      return HttpServerResponse.empty({
        status: 405,
        headers: { allow: "GET", ...SECURITY_HEADERS },
      })
    }
    const query = new URL(request.url, "http://callback.invalid").searchParams
    const params: CallbackParams = {
      code: single(query, "code"),
      state: single(query, "state"),
      error: single(query, "error"),
      errorDescription: single(query, "error_description"),
    }
    const callback = yield* OAuthCallback
    return render(yield* callback.handle(params))
  }),
)
