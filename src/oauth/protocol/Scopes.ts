/**
 * Scope lists. RFC 6749 §3.3 separates scopes with spaces, but providers
 * also use commas (Slack, GitHub responses, Shopify, Linear), and a scope
 * string can arrive still form-encoded (`+` or `%20` for a space, `%2C` for
 * a comma).
 */
import type { ScopeSeparator } from "../catalog/Template.ts"

const SEPARATORS = /(?:[\s,+]|%2C|%20)+/i

/** A scope token of RFC 6749 §3.3: printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Splits a scope string on commas, whitespace and `+` (also when written as
 * `%2C` or `%20`), or takes a list of such strings, and returns the scopes
 * in order without duplicates or empty entries.
 */
export const parseScopes = (input: string | ReadonlyArray<string> | undefined): Array<string> => {
  if (input === undefined) return []
  const parts = typeof input === "string" ? [input] : input
  return dedupe(parts.flatMap((part) => part.split(SEPARATORS)))
}

/**
 * Concatenates scope lists, such as the template's required scopes, the
 * provider's scopes and the request's scopes, keeping the first occurrence
 * of each scope.
 */
export const mergeScopes = (...lists: ReadonlyArray<ReadonlyArray<string>>): Array<string> =>
  dedupe(lists.flatMap((list) => parseScopes(list)))

/** Joins scopes with the provider's separator for the authorization request. */
export const formatScopes = (scopes: ReadonlyArray<string>, separator: ScopeSeparator): string =>
  scopes.join(separator)

/** Returns true when `scope` is a valid scope token of RFC 6749 §3.3. */
export const isScopeToken = (scope: string): boolean => SCOPE_TOKEN.test(scope)

const dedupe = (scopes: ReadonlyArray<string>): Array<string> => {
  const seen = new Set<string>()
  const result: Array<string> = []
  for (const scope of scopes) {
    if (scope === "" || seen.has(scope)) continue
    seen.add(scope)
    result.push(scope)
  }
  return result
}
