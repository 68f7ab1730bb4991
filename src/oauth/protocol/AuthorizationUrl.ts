/** The authorization request of the code flow (RFC 6749 §4.1.1, RFC 7636 §4.3). */
import type { OAuthClient } from "../catalog/ProviderConfig.ts"
import { CODE_CHALLENGE_METHOD } from "./Pkce.ts"
import { formatScopes, mergeScopes } from "./Scopes.ts"

export interface AuthorizationRequest {
  readonly redirectUri: string
  readonly state: string
  /** Scopes for this request, added after the required and the provider scopes. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** S256 challenge of the verifier, required when the client uses PKCE. */
  readonly codeChallenge?: string | undefined
  /** Parameters for this request only, such as `login_hint`. */
  readonly extraParams?: Readonly<Record<string, string>> | undefined
}

export interface AuthorizationUrl {
  readonly url: string
  /** Scopes requested, in order, to compare with the granted scopes later. */
  readonly scopes: ReadonlyArray<string>
}

/**
 * Parameters that the flow sets itself (RFC 6749 §4.1.1, RFC 7636 §4.3), so
 * extra parameters of a template or a request cannot replace them.
 */
export const PROTOCOL_PARAMETERS: ReadonlySet<string> = new Set([
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
])

/**
 * Builds the URL that sends the user to the provider's consent page. Query
 * parameters already in the authorization URL are kept (RFC 6749 §3.1),
 * unless the flow sets a parameter of the same name. Throws when the client
 * uses PKCE and no challenge is given, or when an extra parameter would
 * replace a protocol parameter, because both are defects in the caller.
 */
export const buildAuthorizationUrl = (
  client: OAuthClient,
  request: AuthorizationRequest,
): AuthorizationUrl => {
  if (client.pkce && request.codeChallenge === undefined) {
    throw new Error("the client uses PKCE, but the authorization request has no code challenge")
  }
  const requestExtras = request.extraParams ?? {}
  const reserved = Object.keys(requestExtras).find((name) => PROTOCOL_PARAMETERS.has(name))
  if (reserved !== undefined) {
    throw new Error(`extra authorization parameter ${reserved} would replace a protocol parameter`)
  }

  const url = new URL(client.authorizationUrl)
  const query = url.searchParams
  const scopes = mergeScopes(client.requiredScopes, client.scopes, request.scopes ?? [])

  query.set("response_type", "code")
  query.set("client_id", client.clientId)
  query.set("redirect_uri", request.redirectUri)
  if (scopes.length > 0)
    query.set(client.scopeParameter, formatScopes(scopes, client.scopeSeparator))
  query.set("state", request.state)
  if (client.pkce && request.codeChallenge !== undefined) {
    query.set("code_challenge", request.codeChallenge)
    query.set("code_challenge_method", CODE_CHALLENGE_METHOD)
  }

  for (const [name, value] of Object.entries(client.extraAuthorizationParams))
    query.set(name, value)
  for (const [name, value] of Object.entries(requestExtras)) query.set(name, value)
  return { url: url.toString(), scopes }
}
