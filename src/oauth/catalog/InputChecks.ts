/**
 * Checks of single input fields of a provider configuration. Each returns
 * the checked value, or fails with a `ProviderConfigError` naming the field.
 */
import { Effect, Redacted } from "effect"
import { isScopeToken, parseScopes } from "../protocol/Scopes.ts"
import { ProviderConfigError } from "./ProviderConfig.ts"
import {
  CLIENT_ID_PLACEHOLDER,
  findUrlProblem,
  type ProviderUrlRules,
  placeholdersIn,
} from "./ProviderUrl.ts"
import type { UrlParameter } from "./Template.ts"

export const requireUrl = (
  field: string,
  url: string | undefined,
  templateKey: string,
  rules: ProviderUrlRules,
  urlParameters: Readonly<Record<string, UrlParameter>>,
) => {
  if (url !== undefined) return checkUrl(field, url, rules, urlParameters)
  const problem = `is required because template ${templateKey} has no default`
  return Effect.fail(ProviderConfigError.missing(field, problem))
}

export const checkUrl = (
  field: string,
  url: unknown,
  rules: ProviderUrlRules,
  urlParameters: Readonly<Record<string, UrlParameter>>,
): Effect.Effect<string, ProviderConfigError> => {
  if (typeof url !== "string") {
    return Effect.fail(ProviderConfigError.invalid(field, url, "must be a URL string"))
  }
  const problem = findUrlProblem(url, rules)
  if (problem !== undefined) return Effect.fail(ProviderConfigError.invalid(field, url, problem))

  const unknown = placeholdersIn(url).find(
    (name) => name !== CLIENT_ID_PLACEHOLDER && !(name in urlParameters),
  )
  if (unknown !== undefined) {
    return Effect.fail(
      ProviderConfigError.invalid(
        field,
        url,
        `uses placeholder {${unknown}}, which no urlParameters entry defines`,
      ),
    )
  }
  return Effect.succeed(url)
}

export const checkClientId = (clientId: unknown): Effect.Effect<string, ProviderConfigError> => {
  if (clientId === undefined || clientId === "") {
    return Effect.fail(ProviderConfigError.missing("client_id", "is required"))
  }
  // RFC 6749 Appendix A.1: a client id is printable ASCII.
  if (typeof clientId !== "string" || !/^[\x20-\x7E]+$/.test(clientId)) {
    return Effect.fail(
      ProviderConfigError.invalid("client_id", clientId, "must be printable ASCII text"),
    )
  }
  return Effect.succeed(clientId)
}

export const checkSecret = (
  field: string,
  secret: unknown,
): Effect.Effect<Redacted.Redacted<string> | undefined, ProviderConfigError> => {
  if (secret === undefined) return Effect.succeed(undefined)
  // The value is never shown, even when it has the wrong type.
  if (!Redacted.isRedacted(secret) || typeof Redacted.value(secret) !== "string") {
    return Effect.fail(
      new ProviderConfigError({
        reason: "invalid_field",
        field,
        value: undefined,
        problem: "must be a Redacted string",
      }),
    )
  }
  const value = secret as Redacted.Redacted<string>
  if (Redacted.value(value) === "") {
    return Effect.fail(ProviderConfigError.missing(field, "must not be empty"))
  }
  return Effect.succeed(value)
}

export const checkScopes = (
  scopes: unknown,
  defaults: ReadonlyArray<string>,
): Effect.Effect<ReadonlyArray<string>, ProviderConfigError> => {
  if (scopes === undefined) return Effect.succeed(defaults)
  const isList = Array.isArray(scopes) && scopes.every((scope) => typeof scope === "string")
  if (typeof scopes !== "string" && !isList) {
    return Effect.fail(
      ProviderConfigError.invalid("scopes", scopes, "must be a string or a list of strings"),
    )
  }
  const parsed = parseScopes(scopes as string | ReadonlyArray<string>)
  const bad = parsed.find((scope) => !isScopeToken(scope))
  if (bad !== undefined) {
    return Effect.fail(
      ProviderConfigError.invalid(
        "scopes",
        bad,
        "contains a character not allowed in a scope (RFC 6749 §3.3)",
      ),
    )
  }
  return Effect.succeed(parsed)
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const nullsToUndefined = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, value === null ? undefined : value]),
  )
