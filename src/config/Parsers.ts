/** Parsers for the textual forms of environment settings. */
import { Duration } from "effect"
import { invalid, ok, type Parsed } from "./Setting.ts"

export { invalid, ok }

export const port = (raw: string): Parsed<number> => {
  if (!/^\d+$/.test(raw)) return invalid("not an integer")
  const value = Number(raw)
  return value >= 1 && value <= 65535 ? ok(value) : invalid("outside 1-65535")
}

export const positiveInteger = (raw: string): Parsed<number> => {
  if (!/^\d+$/.test(raw)) return invalid("not a positive integer")
  const value = Number(raw)
  return Number.isSafeInteger(value) && value > 0 ? ok(value) : invalid("not a positive integer")
}

export const boolean = (raw: string): Parsed<boolean> => {
  const text = raw.toLowerCase()
  if (text === "true" || text === "1" || text === "yes") return ok(true)
  if (text === "false" || text === "0" || text === "no") return ok(false)
  return invalid("not a boolean")
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const UNIT_MILLIS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses a duration that must be longer than zero. */
export const positiveDuration = (raw: string): Parsed<Duration.Duration> => {
  const parsed = duration(raw)
  if (!parsed.ok) return parsed
  return Duration.toMillis(parsed.value) > 0 ? parsed : invalid("must be longer than zero")
}

/** Parses `250ms`, `30s`, `5m`, `24h`, `7d`, or a bare number of seconds. */
export const duration = (raw: string): Parsed<Duration.Duration> => {
  if (/^\d+(?:\.\d+)?$/.test(raw)) return ok(Duration.seconds(Number(raw)))
  const match = DURATION.exec(raw.toLowerCase())
  if (!match) return invalid("not a duration")
  const unit = match[2] as keyof typeof UNIT_MILLIS
  return ok(Duration.millis(Number(match[1]) * UNIT_MILLIS[unit]))
}

/** Parses a byte size such as `1048576`, `64kb` or `1mb` (binary multiples). */
export const byteSize = (raw: string): Parsed<number> => {
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/.exec(raw.toLowerCase())
  if (!match) return invalid("not a byte size")
  const unit = match[2] ?? "b"
  const factor = unit === "b" ? 1 : unit.startsWith("k") ? 1024 : 1024 * 1024
  const value = Number(match[1]) * factor
  if (value <= 0) return invalid("must be greater than zero")
  return value <= MAX_BYTE_SIZE ? ok(value) : invalid("larger than 1 GiB")
}

/** Largest accepted byte size setting: 1 GiB. */
const MAX_BYTE_SIZE = 1024 * 1024 * 1024

export const oneOf =
  <const L extends string>(literals: ReadonlyArray<L>) =>
  (raw: string): Parsed<L> =>
    (literals as ReadonlyArray<string>).includes(raw)
      ? ok(raw as L)
      : invalid(`not one of ${literals.join(", ")}`)

/** Parses an absolute http(s) URL without credentials, query or fragment. */
export const baseUrl = (raw: string): Parsed<URL> => {
  const url = httpUrl(raw)
  if (!url.ok) return url
  if (url.value.username !== "" || url.value.password !== "") {
    return invalid("contains a user name or password")
  }
  if (url.value.search !== "" || url.value.hash !== "") return invalid("has a query or fragment")
  return url
}

/** Parses an absolute http(s) URL. */
export const httpUrl = (raw: string): Parsed<URL> => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return invalid("not an absolute URL")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return invalid(`the scheme ${url.protocol} is not http: or https:`)
  }
  return ok(url)
}

/** Parses a URL with one of the given schemes, used for store connection strings. */
export const urlWithScheme =
  (schemes: ReadonlyArray<string>) =>
  (raw: string): Parsed<string> => {
    try {
      const url = new URL(raw)
      return schemes.includes(url.protocol.replace(/:$/, ""))
        ? ok(raw)
        : invalid(`scheme ${url.protocol} is not one of ${schemes.join(", ")}`)
    } catch {
      return invalid("not a URL")
    }
  }

/** Parses a comma-separated list of origins (`scheme://host[:port]`) without credentials. */
export const origins = (raw: string): Parsed<ReadonlyArray<string>> => {
  const result: Array<string> = []
  for (const item of raw
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const url = httpUrl(item)
    if (!url.ok) return invalid(`${JSON.stringify(item)}: ${url.problem}`)
    if (url.value.username !== "" || url.value.password !== "") {
      return invalid("an origin contains a user name or password")
    }
    if (url.value.pathname !== "/" || url.value.search !== "" || url.value.hash !== "") {
      return invalid(`${JSON.stringify(item)} has a path, query or fragment`)
    }
    result.push(url.value.origin)
  }
  return ok(result)
}

export const minLength =
  (length: number) =>
  (raw: string): Parsed<string> =>
    raw.length >= length ? ok(raw) : invalid(`shorter than ${length} characters`)
