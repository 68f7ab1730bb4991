/** Provider clients built from catalog templates, shared by the protocol tests. */
import { Effect, Layer, Redacted } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import {
  type OAuthClient,
  type ProviderInput,
  resolveOAuthClient,
  resolveProvider,
} from "../../../src/oauth/catalog/index.ts"

export const CLIENT_ID = "client-123"
export const CLIENT_SECRET = "client-secret-5f1d9c"

/** Secure random bytes and SHA-256 from WebCrypto, as production provides them. */
export const CryptoLive = Layer.mergeAll(SecureRandom.layerWebCrypto, Digest.layerWebCrypto)

/** Resolves a template with test credentials, then binds it to the session metadata. */
export const clientFor = (
  template: string,
  fields: Omit<ProviderInput, "template"> = {},
  metadata: Readonly<Record<string, string>> = {},
): Effect.Effect<OAuthClient, unknown> =>
  Effect.gen(function* () {
    const config = yield* resolveProvider(
      {
        template,
        client_id: CLIENT_ID,
        client_secret: Redacted.make(CLIENT_SECRET),
        ...fields,
      },
      { allowHttpLoopback: true },
    )
    return yield* resolveOAuthClient(config, metadata)
  })

/** A response with a JSON body. */
export const jsonResponse = (
  status: number,
  body: unknown,
  headers: { retryAfter?: string } = {},
) => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify(body),
  retryAfter: headers.retryAfter,
})

/** A response with a form-encoded body. */
export const formResponse = (status: number, body: string) => ({
  status,
  contentType: "application/x-www-form-urlencoded; charset=utf-8",
  body,
})
