/**
 * Requests to the token endpoint (RFC 6749 §4.1.3 and §6) and to the
 * revocation endpoint (RFC 7009 §2.1), built from a client's quirks.
 */
import { Redacted } from "effect"
import type { OAuthClient } from "../catalog/ProviderConfig.ts"
import type { RevocableToken } from "../catalog/Template.ts"
import {
  authenticateClient,
  encodeBody,
  type ParameterValue,
  type ProviderRequest,
} from "./ProviderRequest.ts"
import { formatScopes } from "./Scopes.ts"

export interface AuthorizationCodeGrant {
  readonly code: Redacted.Redacted<string>
  /** The same redirect URI as in the authorization request (RFC 6749 §4.1.3). */
  readonly redirectUri: string
  /** The PKCE verifier of the authorization, when it sent a challenge. */
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
}

export interface RefreshTokenGrant {
  readonly refreshToken: Redacted.Redacted<string>
  /** A narrower scope (RFC 6749 §6). Without it the provider keeps the granted scope. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

export interface RevocationTarget {
  readonly token: Redacted.Redacted<string>
  readonly tokenType: RevocableToken
}

/** Builds the token request that exchanges an authorization code. */
export const buildAuthorizationCodeRequest = (
  client: OAuthClient,
  grant: AuthorizationCodeGrant,
): ProviderRequest => {
  const parameters: Record<string, ParameterValue> = {
    grant_type: "authorization_code",
    code: grant.code,
    redirect_uri: grant.redirectUri,
  }
  if (grant.codeVerifier !== undefined) parameters.code_verifier = grant.codeVerifier
  return tokenEndpointRequest(client, parameters)
}

/** Builds the token request that refreshes an access token. */
export const buildRefreshTokenRequest = (
  client: OAuthClient,
  grant: RefreshTokenGrant,
): ProviderRequest => {
  const parameters: Record<string, ParameterValue> = {
    grant_type: "refresh_token",
    refresh_token: grant.refreshToken,
  }
  if (grant.scopes !== undefined && grant.scopes.length > 0) {
    parameters.scope = formatScopes(grant.scopes, client.scopeSeparator)
  }
  return tokenEndpointRequest(client, parameters)
}

/**
 * Builds the request that revokes one token, or returns undefined when the
 * provider has no revocation endpoint or its endpoint does not take this
 * kind of token.
 */
export const buildRevocationRequest = (
  client: OAuthClient,
  target: RevocationTarget,
): ProviderRequest | undefined => {
  const revocation = client.revocation
  if (revocation === undefined || !revocation.revocableTokens.includes(target.tokenType)) {
    return undefined
  }

  const headers: Record<string, string> = client.sendAcceptJson
    ? { accept: "application/json" }
    : {}
  for (const [name, value] of Object.entries(revocation.headers))
    headers[name.toLowerCase()] = value
  const secretHeaders: Record<string, Redacted.Redacted<string>> = {}
  const parameters: Record<string, ParameterValue> = {}

  const location = revocation.token
  if (location.in === "header") {
    const value = `${location.prefix}${Redacted.value(target.token)}`
    secretHeaders[location.name.toLowerCase()] = Redacted.make(value)
  } else {
    parameters[location.parameter] = target.token
    if (revocation.tokenTypeHint) parameters.token_type_hint = target.tokenType
  }

  // With `none`, a revocation request names no client: the token alone
  // identifies the grant at the providers that use it.
  if (revocation.authMethod !== "none") {
    authenticateClient(revocation.authMethod, client, parameters, secretHeaders)
  }

  let body: Redacted.Redacted<string> | undefined
  if (Object.keys(parameters).length > 0) {
    const encoded = encodeBody(location.in === "json" ? "json" : "form", parameters)
    headers["content-type"] = encoded.contentType
    body = encoded.body
  }
  return { method: revocation.method, url: revocation.url, headers, secretHeaders, body }
}

const tokenEndpointRequest = (
  client: OAuthClient,
  parameters: Record<string, ParameterValue>,
): ProviderRequest => {
  const secretHeaders: Record<string, Redacted.Redacted<string>> = {}
  authenticateClient(client.clientAuthentication, client, parameters, secretHeaders)

  const encoded = encodeBody(client.tokenRequestEncoding, parameters)
  const headers: Record<string, string> = { "content-type": encoded.contentType }
  if (client.sendAcceptJson) headers.accept = "application/json"
  return { method: "POST", url: client.tokenUrl, headers, secretHeaders, body: encoded.body }
}
