/**
 * Validation of token endpoint responses (RFC 6749 §5.1 and §5.2). Fields
 * are checked one at a time in a fixed order, so a failure names the one
 * field that was wrong: body, errors, access token, token type, expiry,
 * refresh token, scope.
 */
import { Clock, Effect, Redacted } from "effect"
import type { OAuthQuirks } from "../catalog/Template.ts"
import {
  getPath,
  type ProviderResponse,
  parseRetryAfter,
  readResponseBody,
} from "./ResponseBody.ts"
import { parseScopes } from "./Scopes.ts"
import { TokenEndpointError } from "./TokenEndpointError.ts"

/** The quirks that shape a token response. `OAuthClient` has all of them. */
export type TokenResponseQuirks = Pick<
  OAuthQuirks,
  | "tokenPath"
  | "refreshTokenPath"
  | "expiresInPath"
  | "scopePath"
  | "tokenTypePath"
  | "acceptedTokenTypes"
  | "tokenTypeRequired"
  | "extraFieldsToKeep"
  | "errorInSuccessBody"
>

export interface TokenSet {
  readonly accessToken: Redacted.Redacted<string>
  /** Undefined when the response has none, and then the caller keeps the stored one. */
  readonly refreshToken: Redacted.Redacted<string> | undefined
  /** Lower-case token type, such as `bearer`. */
  readonly tokenType: string
  /** Undefined when the response has no `expires_in`. */
  readonly expiresAt: Date | undefined
  readonly scopes: ReadonlyArray<string>
  /** Values of the template's `extraFieldsToKeep`, by path, for the paths present. */
  readonly extra: Readonly<Record<string, unknown>>
}

export interface ParseTokenResponseOptions {
  /**
   * Scopes of the request, returned when the response has no scope field,
   * since RFC 6749 §5.1 then means the granted scope equals the requested one.
   */
  readonly requestedScopes?: ReadonlyArray<string> | undefined
}

const MAX_ERROR_LENGTH = 100
const MAX_DESCRIPTION_LENGTH = 500

/** Parses and validates a token endpoint response, counting the expiry from the Clock. */
export const parseTokenResponse = (
  quirks: TokenResponseQuirks,
  response: ProviderResponse,
  options: ParseTokenResponseOptions = {},
): Effect.Effect<TokenSet, TokenEndpointError> =>
  Effect.gen(function* () {
    const { status } = response
    const retryAfterSeconds = parseRetryAfter(response.retryAfter)
    const successStatus = status >= 200 && status < 300

    const body = readResponseBody(response)
    if (!body.ok) {
      return yield* successStatus
        ? TokenEndpointError.invalidResponse(status, "body", body.problem)
        : TokenEndpointError.httpStatus(status, retryAfterSeconds, body.problem)
    }
    const fields = body.fields

    const providerError = findProviderError(quirks, fields)
    if (providerError !== undefined) {
      return yield* TokenEndpointError.providerError({
        status,
        error: providerError,
        errorDescription: cleanText(fields.error_description, MAX_DESCRIPTION_LENGTH),
        errorUri: cleanText(fields.error_uri, MAX_DESCRIPTION_LENGTH),
        errorCodes: readErrorCodes(fields.error_codes),
        retryAfterSeconds,
      })
    }
    if (!successStatus) return yield* TokenEndpointError.httpStatus(status, retryAfterSeconds)

    const invalid = (field: string, problem: string) =>
      TokenEndpointError.invalidResponse(status, field, problem)

    const accessToken = getPath(fields, quirks.tokenPath)
    if (typeof accessToken !== "string" || accessToken === "") {
      return yield* invalid(
        quirks.tokenPath,
        `must be a non-empty string, got ${describe(accessToken)}`,
      )
    }

    const tokenType = checkTokenType(quirks, getPath(fields, quirks.tokenTypePath))
    if (typeof tokenType !== "string")
      return yield* invalid(quirks.tokenTypePath, tokenType.problem)

    const expiresIn = checkExpiresIn(getPath(fields, quirks.expiresInPath))
    if (typeof expiresIn === "object")
      return yield* invalid(quirks.expiresInPath, expiresIn.problem)

    const refreshToken = getPath(fields, quirks.refreshTokenPath)
    if (refreshToken !== undefined && refreshToken !== null && typeof refreshToken !== "string") {
      return yield* invalid(
        quirks.refreshTokenPath,
        `must be a string, got ${describe(refreshToken)}`,
      )
    }

    const scope = getPath(fields, quirks.scopePath)
    const scopeIsList = Array.isArray(scope) && scope.every((item) => typeof item === "string")
    if (scope !== undefined && scope !== null && typeof scope !== "string" && !scopeIsList) {
      return yield* invalid(
        quirks.scopePath,
        `must be a string or a list of strings, got ${describe(scope)}`,
      )
    }

    const scopeText = Array.isArray(scope)
      ? scope.join(" ")
      : typeof scope === "string"
        ? scope
        : ""
    if (/[\u0000-\u001f\u007f]/.test(scopeText)) {
      return yield* invalid(quirks.scopePath, "must not contain control characters")
    }

    const now = yield* Clock.currentTimeMillis
    return {
      accessToken: Redacted.make(accessToken),
      // An empty refresh token is treated as absent, so it never replaces a stored one.
      refreshToken:
        typeof refreshToken === "string" && refreshToken !== ""
          ? Redacted.make(refreshToken)
          : undefined,
      tokenType,
      expiresAt: expiresIn === undefined ? undefined : new Date(now + expiresIn * 1000),
      scopes:
        scope === undefined || scope === null
          ? parseScopes(options.requestedScopes ?? [])
          : parseScopes(scope as string | ReadonlyArray<string>),
      extra: keepExtraFields(quirks.extraFieldsToKeep, fields),
    }
  })

/**
 * Returns the provider's error code when the body reports one: through the
 * template's success-body rule (Slack's `ok: false`) or an `error` field,
 * whatever the HTTP status.
 */
const findProviderError = (
  quirks: TokenResponseQuirks,
  fields: Readonly<Record<string, unknown>>,
): string | undefined => {
  const rule = quirks.errorInSuccessBody
  if (rule !== undefined) {
    const flag = getPath(fields, rule.field)
    // Form bodies carry every value as text, so `false` arrives as "false".
    if (flag === rule.equals || (typeof flag === "string" && flag === String(rule.equals))) {
      return cleanText(getPath(fields, rule.errorPath), MAX_ERROR_LENGTH) ?? "unknown_error"
    }
  }
  const error = fields.error
  if (error === undefined || error === null || error === "") return undefined
  return cleanText(error, MAX_ERROR_LENGTH) ?? "unknown_error"
}

const checkTokenType = (
  quirks: TokenResponseQuirks,
  value: unknown,
): string | { readonly problem: string } => {
  const accepted = quirks.acceptedTokenTypes.map((type) => type.toLowerCase())
  if (value === undefined || value === null) {
    if (quirks.tokenTypeRequired) return { problem: "is missing" }
    return accepted[0] ?? "bearer"
  }
  // RFC 6749 §5.1: the token type value is case-insensitive.
  if (typeof value === "string" && accepted.includes(value.toLowerCase()))
    return value.toLowerCase()
  return { problem: `must be one of ${accepted.join(", ")}, got ${describe(value)}` }
}

/** Seconds until expiry: a non-negative integer, as a number or a string of digits. */
/**
 * Maximum token lifetime accepted, ten years in seconds. Providers issue
 * lifetimes of minutes to months; a larger value is a broken response and
 * would overflow the expiry timestamp.
 */
const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600

const checkExpiresIn = (value: unknown): number | undefined | { readonly problem: string } => {
  if (value === undefined || value === null) return undefined
  const seconds =
    typeof value === "number" && Number.isSafeInteger(value) && value >= 0
      ? value
      : typeof value === "string" && /^\d{1,15}$/.test(value)
        ? Number(value)
        : undefined
  if (seconds !== undefined && seconds <= MAX_EXPIRES_IN) return seconds
  return {
    problem:
      `must be a non-negative integer number of seconds up to ${MAX_EXPIRES_IN}, ` +
      `got ${describe(value)}`,
  }
}

const keepExtraFields = (
  paths: ReadonlyArray<string>,
  fields: Readonly<Record<string, unknown>>,
): Record<string, unknown> => {
  const extra: Record<string, unknown> = {}
  for (const path of paths) {
    const value = getPath(fields, path)
    if (value !== undefined) extra[path] = value
  }
  return extra
}

const readErrorCodes = (value: unknown): ReadonlyArray<string> => {
  if (!Array.isArray(value)) return []
  return value
    .filter((code) => typeof code === "number" || typeof code === "string")
    .slice(0, 10)
    .map((code) => cleanText(String(code), MAX_ERROR_LENGTH) ?? "")
}

/**
 * Keeps the characters RFC 6749 §5.2 allows in error fields (printable ASCII
 * without `"` and `\`, replacing others with `?`) and shortens the text, so a
 * provider value cannot inject lines into logs.
 */
const cleanText = (value: unknown, maxLength: number): string | undefined => {
  if (typeof value !== "string" || value === "") return undefined
  const clean = value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "?")
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}...` : clean
}

/**
 * Describes a rejected value by its type and, for numbers and booleans, its
 * value. Strings are never shown, because a misplaced token may be one.
 */
const describe = (value: unknown): string => {
  if (value === null) return "null"
  if (value === undefined) return "nothing"
  if (Array.isArray(value)) return "a list"
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`
  if (typeof value === "string")
    return value === "" ? "an empty string" : `a string of ${value.length} characters`
  return `a value of type ${typeof value}`
}
