/**
 * The OAuth `state` parameter (RFC 6749 §10.12): an unguessable value bound
 * to one pending authorization, which the callback must present.
 */
import { Effect } from "effect"
import { SecureRandom } from "effect/crypto"
import { Base64Url } from "effect/encoding"

/** 32 bytes are 256 bits of entropy, encoded as 43 base64url characters. */
export const STATE_BYTES = 32

const STATE = /^[A-Za-z0-9_-]{43}$/

/** Generates a state of 256 random bits, base64url-encoded without padding. */
export const generateState: Effect.Effect<string, never, SecureRandom.SecureRandom> = Effect.gen(
  function* () {
    const random = yield* SecureRandom.SecureRandom
    return Base64Url.encode(yield* random.randomBytes(STATE_BYTES))
  },
)

/**
 * Returns true when `value` has the form of a generated state, so a callback
 * can reject junk before looking the state up.
 */
export const isWellFormedState = (value: string): boolean => STATE.test(value)
