/**
 * Proof Key for Code Exchange (RFC 7636) with the S256 method only, since
 * `plain` offers no protection when the authorization request leaks.
 */
import { Effect, Redacted } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import { Base64Url } from "effect/encoding"

export const CODE_CHALLENGE_METHOD = "S256"

/** Random bytes behind a verifier. 32 bytes give 43 characters, the minimum (RFC 7636 §7.1). */
export const DEFAULT_VERIFIER_BYTES = 32

/** 96 bytes give 128 characters, the maximum verifier length of RFC 7636 §4.1. */
const MAX_VERIFIER_BYTES = 96

/** Verifier syntax of RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/

export interface Pkce {
  /** Kept secret in the OAuth state and sent only to the token endpoint. */
  readonly codeVerifier: Redacted.Redacted<string>
  readonly codeChallenge: string
  readonly codeChallengeMethod: typeof CODE_CHALLENGE_METHOD
}

/**
 * Generates a code verifier: `byteLength` random bytes (32 to 96) encoded as
 * base64url without padding, as RFC 7636 §4.1 recommends.
 */
export const generateCodeVerifier = (
  byteLength: number = DEFAULT_VERIFIER_BYTES,
): Effect.Effect<Redacted.Redacted<string>, never, SecureRandom.SecureRandom> => {
  if (!Number.isInteger(byteLength) || byteLength < 32 || byteLength > MAX_VERIFIER_BYTES) {
    return Effect.die(new RangeError(`PKCE verifier byte length must be 32-96, got ${byteLength}`))
  }
  return Effect.gen(function* () {
    const random = yield* SecureRandom.SecureRandom
    const bytes = yield* random.randomBytes(byteLength)
    return Redacted.make(Base64Url.encode(bytes))
  })
}

/** Computes the S256 challenge, `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2). */
export const computeCodeChallenge = (
  codeVerifier: Redacted.Redacted<string>,
): Effect.Effect<string, never, Digest.Digest> =>
  Effect.gen(function* () {
    const digest = yield* Digest.Digest
    const ascii = new TextEncoder().encode(Redacted.value(codeVerifier))
    const hash = yield* digest.digest(Digest.sha256, ascii)
    return Base64Url.encode(hash)
  })

/** Generates a verifier and its S256 challenge. */
export const generatePkce: Effect.Effect<Pkce, never, SecureRandom.SecureRandom | Digest.Digest> =
  Effect.gen(function* () {
    const codeVerifier = yield* generateCodeVerifier()
    const codeChallenge = yield* computeCodeChallenge(codeVerifier)
    return { codeVerifier, codeChallenge, codeChallengeMethod: CODE_CHALLENGE_METHOD }
  })

/** Returns true when `value` has the verifier syntax of RFC 7636 §4.1. */
export const isCodeVerifier = (value: string): boolean => VERIFIER.test(value)
