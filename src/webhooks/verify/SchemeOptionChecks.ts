import { Redacted } from "effect"
import type { WebhookSchemeName } from "./Scheme.ts"

/** Validation rule of one option, with the expected form that the error names. */
export interface OptionCheck {
  readonly required: boolean
  readonly expected: string
  readonly isValid: (value: unknown) => boolean
}

const required = (expected: string, isValid: (value: unknown) => boolean): OptionCheck => ({
  required: true,
  expected,
  isValid,
})

const optional = (expected: string, isValid: (value: unknown) => boolean): OptionCheck => ({
  required: false,
  expected,
  isValid,
})

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0

const isIntegerBetween = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max

// RFC 9110 section 5.6.2: a field name is a token.
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const headerName = "must be an HTTP header name (an RFC 9110 token)"
const isHeaderName = (value: unknown): boolean =>
  typeof value === "string" && tokenPattern.test(value)

const toleranceSeconds = optional("must be a whole number of seconds from 1 to 86400", (value) =>
  isIntegerBetween(value, 1, 86_400),
)

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.[0-9]{1,3}){3}$/.test(hostname)

/** Accepts HTTPS anywhere, and plain HTTP only to this machine (tests, sidecars). */
const isKeySetUrl = (value: string): boolean => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") return false
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))
}

/** A JWKS (RFC 7517 section 5) of public keys: no private `d`, no symmetric `k`. */
const isPublicKeySet = (value: unknown): boolean =>
  isPlainObject(value) &&
  Array.isArray(value.keys) &&
  value.keys.length > 0 &&
  value.keys.every(
    (key) => isPlainObject(key) && isNonEmptyString(key.kty) && !("d" in key) && !("k" in key),
  )

const asymmetricAlgorithms = new Set([
  ...["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  ...["ES256", "ES384", "ES512", "EdDSA"],
])

const isGoogleChannel = (value: unknown): boolean =>
  isPlainObject(value) &&
  isNonEmptyString(value.id) &&
  Redacted.isRedacted(value.token) &&
  isNonEmptyString(Redacted.value(value.token)) &&
  (value.resourceId === undefined || isNonEmptyString(value.resourceId))

const isChannelList = (value: unknown): boolean => {
  if (!Array.isArray(value) || !value.every(isGoogleChannel)) return false
  const ids = new Set(value.map((channel: { id: string }) => channel.id))
  return ids.size === value.length
}

const timestampOptions = { toleranceSeconds }

/** Options that each scheme accepts. Any other key is rejected. */
export const optionChecksByScheme: Record<WebhookSchemeName, Record<string, OptionCheck>> = {
  slack: timestampOptions,
  github: {},
  stripe: timestampOptions,
  "standard-webhooks": timestampOptions,
  shopify: {},
  zoom: timestampOptions,
  google: {
    channels: optional(
      "must be a list of { id, token: Redacted, resourceId? } with distinct ids",
      isChannelList,
    ),
    findChannel: optional("must be a function from channel id to channel", (value) => {
      return typeof value === "function"
    }),
  },
  "google-pubsub": {
    audience: required("must be the push subscription's audience", isNonEmptyString),
    email: required(
      "must be the service account email",
      (value) => typeof value === "string" && /^[^@\s]+@[^@\s]+$/.test(value),
    ),
    jwks: required(
      "must be a JWKS of public keys, or its https URL (http only on a loopback address)",
      (value) => (typeof value === "string" ? isKeySetUrl(value) : isPublicKeySet(value)),
    ),
    clockToleranceSeconds: optional("must be a whole number of seconds from 0 to 300", (value) =>
      isIntegerBetween(value, 0, 300),
    ),
    algorithms: optional(
      "must be a non-empty list of asymmetric JWS algorithms such as RS256",
      (value) =>
        Array.isArray(value) &&
        value.length > 0 &&
        value.every((name) => asymmetricAlgorithms.has(name)),
    ),
  },
  "generic-hmac": {
    signatureHeader: required(headerName, isHeaderName),
    algorithm: required('must be "sha1", "sha256" or "sha512"', (value) =>
      ["sha1", "sha256", "sha512"].includes(value as string),
    ),
    encoding: required('must be "hex" or "base64"', (value) =>
      ["hex", "base64"].includes(value as string),
    ),
    prefix: optional(
      "must be 1 to 64 visible ASCII characters",
      (value) => typeof value === "string" && /^[\x21-\x7e]{1,64}$/.test(value),
    ),
    signatureSeparator: optional('must be " " or ","', (value) => value === " " || value === ","),
    timestampHeader: optional(headerName, isHeaderName),
    toleranceSeconds,
    signedContent: optional(
      "must be a template of at most 1024 characters",
      (value) => typeof value === "string" && value.length <= 1024,
    ),
    idHeader: optional(headerName, isHeaderName),
    eventTypeHeader: optional(headerName, isHeaderName),
    routingKeyHeader: optional(headerName, isHeaderName),
  },
}
