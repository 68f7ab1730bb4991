/**
 * An HTTP request to a provider, described as data so the HTTP layer can
 * send it with any client. Secrets stay `Redacted` until the request is sent.
 */
import { Redacted } from "effect"
import type { ClientAuthentication, RequestBodyEncoding } from "../catalog/Template.ts"

export interface ProviderRequest {
  readonly method: "POST" | "DELETE"
  readonly url: string
  /** Headers without secrets, with lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  /** Headers carrying a secret, such as `authorization`, with lower-case names. */
  readonly secretHeaders: Readonly<Record<string, Redacted.Redacted<string>>>
  /** Encoded body of the type in `headers["content-type"]`, or undefined for none. */
  readonly body: Redacted.Redacted<string> | undefined
}

/** A request parameter. Secret values stay redacted until the body is encoded. */
export type ParameterValue = string | Redacted.Redacted<string>

export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string> | undefined
}

/**
 * Encodes a value with the application/x-www-form-urlencoded serializer,
 * which RFC 6749 Appendix B requires for parameters and for Basic credentials.
 */
export const formEncode = (value: string): string =>
  new URLSearchParams({ v: value }).toString().slice(2)

/**
 * Adds client authentication to a request (RFC 6749 §2.3.1). With
 * `client_secret_basic`, the id and the secret are form-encoded before they
 * are joined and base64-encoded, so a `:` in the id cannot shift the split.
 * With `client_secret_post` both go in the body, and with `none` only the id.
 */
export const authenticateClient = (
  method: ClientAuthentication,
  client: ClientCredentials,
  parameters: Record<string, ParameterValue>,
  secretHeaders: Record<string, Redacted.Redacted<string>>,
): void => {
  if (method === "none") {
    parameters.client_id = client.clientId
    return
  }
  const secret = requireSecret(client)
  if (method === "client_secret_post") {
    parameters.client_id = client.clientId
    parameters.client_secret = secret
    return
  }
  const credentials = `${formEncode(client.clientId)}:${formEncode(Redacted.value(secret))}`
  secretHeaders.authorization = Redacted.make(`Basic ${btoa(credentials)}`)
}

/** Encodes parameters as a form or JSON body, with the matching content type. */
export const encodeBody = (
  encoding: RequestBodyEncoding,
  parameters: Readonly<Record<string, ParameterValue>>,
): { readonly contentType: string; readonly body: Redacted.Redacted<string> } => {
  const plain = Object.entries(parameters).map(([name, value]): [string, string] => [
    name,
    Redacted.isRedacted(value) ? Redacted.value(value) : value,
  ])
  if (encoding === "json") {
    return {
      contentType: "application/json",
      body: Redacted.make(JSON.stringify(Object.fromEntries(plain))),
    }
  }
  return {
    contentType: "application/x-www-form-urlencoded",
    body: Redacted.make(new URLSearchParams(plain).toString()),
  }
}

const requireSecret = (client: ClientCredentials): Redacted.Redacted<string> => {
  if (client.clientSecret === undefined) {
    // resolveProvider rejects this configuration, so reaching it is a defect.
    throw new Error(`client ${client.clientId} has no client secret for client authentication`)
  }
  return client.clientSecret
}
