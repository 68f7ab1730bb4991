/**
 * Runtime checks of quirk values. Quirk overrides arrive as JSON, so each
 * field of `OAuthQuirks` has a check here. A check returns the problem, or
 * undefined when the value is acceptable.
 */
import { PROTOCOL_PARAMETERS } from "../protocol/AuthorizationUrl.ts"
import { isScopeToken } from "../protocol/Scopes.ts"
import { isRecord } from "./InputChecks.ts"
import type { OAuthQuirks, RevocationSettings, WebhookSettings } from "./Template.ts"
import { webhookSchemes } from "./Template.ts"

type Check = (value: unknown) => string | undefined

const PATH = /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/

const oneOf =
  (...allowed: ReadonlyArray<unknown>): Check =>
  (value) =>
    allowed.includes(value)
      ? undefined
      : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`

const boolean: Check = (value) => (typeof value === "boolean" ? undefined : "must be a boolean")

const nonEmptyString: Check = (value) =>
  typeof value === "string" && value !== "" ? undefined : "must be a non-empty string"

const path: Check = (value) =>
  typeof value === "string" && PATH.test(value) ? undefined : "must be a dot-separated field path"

const positiveInteger: Check = (value) =>
  Number.isSafeInteger(value) && (value as number) > 0 ? undefined : "must be a positive integer"

const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined ? undefined : check(value)

const arrayOf =
  (check: Check, what: string): Check =>
  (value) => {
    if (!Array.isArray(value)) return `must be an array of ${what}`
    return value.some((item) => check(item) !== undefined)
      ? `must be an array of ${what}`
      : undefined
  }

const scopeList = arrayOf(
  (value) => (typeof value === "string" && isScopeToken(value) ? undefined : "invalid"),
  "scope tokens",
)

// A kept field is stored unencrypted next to the credentials, so any field
// named like a token (`access_token`, `id_token`) is rejected.
const keptField: Check = (value) => {
  const problem = path(value)
  if (problem !== undefined) return problem
  return /token$/i.test(value as string) ? "must not name a token field" : undefined
}

const stringRecord =
  (checkKey: (key: string) => string | undefined): Check =>
  (value) => {
    if (!isRecord(value)) return "must be an object of strings"
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== "string") return `must be an object of strings (${key})`
      const problem = checkKey(key)
      if (problem !== undefined) return problem
    }
    return undefined
  }

const urlParameter: Check = (value) => {
  if (!isRecord(value)) return "must be an object with metadataKey, pattern and default"
  if (nonEmptyString(value.metadataKey) !== undefined) return "needs a metadataKey string"
  if (typeof value.pattern !== "string") return "needs a pattern string"
  try {
    new RegExp(value.pattern)
  } catch {
    return "needs a valid regular expression as pattern"
  }
  return optional(nonEmptyString)(value.default)
}

const urlParameters: Check = (value) => {
  if (!isRecord(value)) return "must be an object of URL parameters"
  for (const [name, parameter] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `has an invalid parameter name ${name}`
    const problem = urlParameter(parameter)
    if (problem !== undefined) return `${name} ${problem}`
  }
  return undefined
}

const errorInSuccessBody: Check = (value) => {
  if (value === undefined) return undefined
  if (!isRecord(value)) return "must be an object with field, equals and errorPath"
  if (path(value.field) !== undefined) return "needs field as a field path"
  if (!["string", "number", "boolean"].includes(typeof value.equals)) {
    return "needs equals as a string, number or boolean"
  }
  return path(value.errorPath) === undefined ? undefined : "needs errorPath as a field path"
}

const httpStatus: Check = (value) =>
  Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599
    ? undefined
    : "invalid"

const revocationChecks: { readonly [K in keyof RevocationSettings]-?: Check } = {
  url: nonEmptyString,
  method: oneOf("POST", "DELETE"),
  token: (value) => {
    if (!isRecord(value)) return "must be an object"
    if (value.in === "form" || value.in === "json") return nonEmptyString(value.parameter)
    if (value.in !== "header") return "needs in as form, json or header"
    if (nonEmptyString(value.name) !== undefined) return "needs a header name"
    return typeof value.prefix === "string" ? undefined : "needs a prefix string"
  },
  tokenTypeHint: boolean,
  authMethod: oneOf("client_secret_basic", "client_secret_post", "none"),
  revocableTokens: arrayOf(oneOf("access_token", "refresh_token"), "token kinds"),
  alreadyRevokedStatuses: arrayOf(httpStatus, "HTTP statuses"),
  alreadyRevokedErrors: arrayOf(nonEmptyString, "error codes"),
  headers: stringRecord(() => undefined),
}

/**
 * Checks every field of revocation settings and returns `[field, problem]`
 * for the first bad one.
 */
export const findRevocationProblem = (
  settings: Record<string, unknown>,
): readonly [string, string] | undefined => findProblem(revocationChecks, settings)

const quirkChecks: { readonly [K in keyof OAuthQuirks]-?: Check } = {
  clientAuthentication: oneOf("client_secret_basic", "client_secret_post", "none"),
  pkce: boolean,
  scopeSeparator: oneOf(" ", ","),
  scopeParameter: nonEmptyString,
  requiredScopes: scopeList,
  extraAuthorizationParams: stringRecord((key) =>
    PROTOCOL_PARAMETERS.has(key) ? `must not set ${key}, which the flow sets` : undefined,
  ),
  urlParameters,
  tokenRequestEncoding: oneOf("form", "json"),
  sendAcceptJson: boolean,
  tokenPath: path,
  refreshTokenPath: path,
  expiresInPath: path,
  scopePath: path,
  tokenTypePath: path,
  acceptedTokenTypes: arrayOf(nonEmptyString, "token types"),
  tokenTypeRequired: boolean,
  extraFieldsToKeep: arrayOf(keptField, "field paths not naming a token"),
  errorInSuccessBody,
  refreshTokenRotates: boolean,
  keepAliveRefreshSeconds: optional(positiveInteger),
  tokenNeverExpires: boolean,
  // Checked field by field with findRevocationProblem.
  revocation: () => undefined,
}

/** Names of the quirks that a provider may override. */
export const quirkNames: ReadonlySet<string> = new Set(Object.keys(quirkChecks))

/** Checks every quirk and returns `[field, problem]` for the first bad one. */
export const findQuirkProblem = (quirks: OAuthQuirks): readonly [string, string] | undefined =>
  findProblem(quirkChecks, quirks as unknown as Record<string, unknown>)

const webhookChecks: { readonly [K in keyof WebhookSettings]-?: Check } = {
  scheme: oneOf(...webhookSchemes),
  routingKey: optional(deliveryField),
  eventId: optional(deliveryField),
  maxBodyBytes: positiveInteger,
  toleranceSeconds: optional(positiveInteger),
  signature: optional((value) => {
    if (!isRecord(value)) return "must be an object"
    return (
      nonEmptyString(value.header) ??
      oneOf("sha1", "sha256", "sha512")(value.algorithm) ??
      oneOf("hex", "base64")(value.encoding) ??
      (typeof value.prefix === "string" ? undefined : "needs a prefix string")
    )
  }),
}

function deliveryField(value: unknown): string | undefined {
  if (!isRecord(value)) return "must be an object with in and name"
  if (value.in !== "header" && value.in !== "body") return "needs in as header or body"
  return value.in === "header" ? nonEmptyString(value.name) : path(value.name)
}

/** Checks every webhook setting and returns `[field, problem]` for the first bad one. */
export const findWebhookProblem = (
  settings: Record<string, unknown>,
): readonly [string, string] | undefined => {
  const problem = findProblem(webhookChecks, settings)
  if (problem !== undefined) return problem
  if (settings.scheme === "generic-hmac" && settings.signature === undefined) {
    return ["signature", "is required by the generic-hmac scheme"]
  }
  return undefined
}

const findProblem = (
  checks: Readonly<Record<string, Check>>,
  values: Record<string, unknown>,
): readonly [string, string] | undefined => {
  for (const key of Object.keys(values)) {
    if (!(key in checks)) return [key, "is not a known setting"]
  }
  for (const [key, check] of Object.entries(checks)) {
    const problem = check(values[key])
    if (problem !== undefined) return [key, problem]
  }
  return undefined
}
