/**
 * Rules for the endpoint URLs of a provider, and the filling of their
 * placeholders such as `{shop}` and `{tenant}`.
 */

export interface ProviderUrlRules {
  /**
   * Accepts `http` for loopback hosts (127.0.0.0/8, ::1, localhost), for
   * tests and local development. Every other URL must use `https`.
   */
  readonly allowHttpLoopback: boolean
}

/** Placeholder always available: the provider's client id, as GitHub's revocation URL needs. */
export const CLIENT_ID_PLACEHOLDER = "client_id"

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** Stand-in used to check a URL's syntax before its placeholders are known. */
const SAMPLE_VALUE = "placeholder"

/** Lists the placeholder names in a URL, without braces, in order of appearance. */
export const placeholdersIn = (url: string): ReadonlyArray<string> =>
  Array.from(url.matchAll(PLACEHOLDER), (match) => match[1] ?? "")

/**
 * Returns true for `localhost`, an address in 127.0.0.0/8, or `::1`, in the
 * form the URL parser gives `hostname`.
 */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" ||
  hostname === "[::1]" ||
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/**
 * Checks an endpoint URL, with each placeholder replaced by a sample value.
 * Returns the problem, or undefined when the URL is acceptable.
 */
export const findUrlProblem = (raw: string, rules: ProviderUrlRules): string | undefined => {
  let url: URL
  try {
    url = new URL(raw.replace(PLACEHOLDER, SAMPLE_VALUE))
  } catch {
    return "must be an absolute URL"
  }

  if (url.protocol === "http:") {
    if (!isLoopbackHost(url.hostname)) {
      return "must use https; http is accepted only for a loopback host"
    }
    if (!rules.allowHttpLoopback) {
      return "must use https; http is accepted only for loopback hosts with ALLOW_HTTP_LOOPBACK_PROVIDERS=true"
    }
  } else if (url.protocol !== "https:") {
    return "must use https"
  }

  if (url.username !== "" || url.password !== "") return "must not contain credentials"
  // RFC 6749 §3.1 and §3.2 forbid a fragment in endpoint URLs.
  if (url.hash !== "" || raw.includes("#")) return "must not contain a fragment"
  return undefined
}

/**
 * Replaces each `{name}` in `url` by its percent-encoded value. The caller
 * supplies a value for every placeholder in the URL.
 */
export const fillPlaceholders = (url: string, values: Readonly<Record<string, string>>): string =>
  url.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(values[name] ?? ""))
