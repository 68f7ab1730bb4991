/**
 * Reading provider responses: the body by its content type, fields by
 * dot-separated path, and the `Retry-After` header.
 */

/** A provider's HTTP response, as read by the HTTP layer. */
export interface ProviderResponse {
  readonly status: number
  /** Value of the Content-Type header, if any. */
  readonly contentType: string | undefined
  readonly body: string
  /** Value of the Retry-After header, if any. */
  readonly retryAfter?: string | undefined
}

export type ResponseBody =
  | { readonly ok: true; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problem: string }

/**
 * Parses a body as JSON or as application/x-www-form-urlencoded, chosen by
 * the media type. For `text/plain` or no content type, a body starting with
 * `{` is read as JSON and any other as a form, because some token endpoints
 * label form bodies as text.
 */
export const readResponseBody = (response: ProviderResponse): ResponseBody => {
  const mediaType = (response.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? ""
  const text = response.body

  if (mediaType === "application/json" || mediaType.endsWith("+json")) return readJson(text)
  if (mediaType === "application/x-www-form-urlencoded") return readForm(text)
  if (mediaType === "text/plain" || mediaType === "") {
    return text.trimStart().startsWith("{") ? readJson(text) : readForm(text)
  }
  return { ok: false, problem: `content type ${mediaType} is neither JSON nor form-encoded` }
}

/** Returns the value at a dot-separated path such as `authed_user.access_token`. */
export const getPath = (fields: unknown, path: string): unknown => {
  let current = fields
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined
    if (!Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/**
 * Reads `Retry-After` in its delta-seconds form (RFC 9110 §10.2.3).
 * NOTE: the HTTP-date form yields undefined, so the caller's backoff applies.
 */
export const parseRetryAfter = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined
  return Number(value.trim())
}

const readJson = (text: string): ResponseBody => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: "body is not valid JSON" }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problem: "body is not a JSON object" }
  }
  return { ok: true, fields: value as Record<string, unknown> }
}

const readForm = (text: string): ResponseBody => {
  const trimmed = text.trim()
  if (trimmed === "" || !trimmed.includes("=")) {
    return { ok: false, problem: "body is not form-encoded" }
  }
  // No prototype, so a `__proto__` field stays an ordinary field.
  const fields: Record<string, unknown> = Object.create(null)
  // A repeated name keeps its first value.
  for (const [name, value] of new URLSearchParams(trimmed)) {
    if (!Object.hasOwn(fields, name)) fields[name] = value
  }
  return { ok: true, fields }
}
