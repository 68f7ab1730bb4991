/**
 * Pending authorizations, keyed by their OAuth `state` (RFC 6749 §10.12).
 *
 * A state is 256 random bits, valid for 10 minutes and usable once. The
 * record is kept in `KeyValue` under the SHA-256 of the state, so the store
 * never contains a value that would pass a callback, and it is consumed with
 * one atomic `take`: of two callbacks with the same state, only one
 * continues to the token exchange. The PKCE verifier in the record is
 * encrypted with `TokenCipher`.
 */
import { createHash } from "node:crypto"
import { Clock, Context, Duration, Effect, Layer, Option, type Redacted } from "effect"
import { TokenCipher } from "../crypto/TokenCipher.ts"
import { KeyValue } from "../storage/KeyValue.ts"
import type { StoreError } from "../storage/StoreError.ts"
import { OAuthStateError } from "./OAuthErrors.ts"
import { isWellFormedState } from "./protocol/State.ts"

/** How long a user has between the connect session and the callback. */
export const STATE_LIFETIME = Duration.minutes(10)

/**
 * Extra time a record outlives its state, so a late callback gets
 * `state_expired` instead of `invalid_state`.
 */
const EXPIRED_STATE_GRACE = Duration.minutes(5)

const KEY_PREFIX = "oauth:state:"

export interface PendingAuthorization {
  readonly sessionId: string
  readonly organizationId: string
  readonly providerKey: string
  /** The application's URL that the callback redirects the user back to. */
  readonly redirectUrl: string
  /** The callback URL sent as `redirect_uri`; the token request repeats it. */
  readonly callbackUrl: string
  /** Scopes the authorization request asked for. */
  readonly scopes: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, unknown>>
  readonly codeVerifier: Redacted.Redacted<string> | undefined
  /** Epoch milliseconds after which the state is rejected. */
  readonly expiresAt: number
}

interface StoredRecord extends Omit<PendingAuthorization, "codeVerifier"> {
  readonly codeVerifier: string | undefined
}

const hashState = (state: string): string => createHash("sha256").update(state).digest("base64url")

/** The context the verifier is encrypted under; the hash ties it to one state. */
const verifierContext = (stateHash: string) => ({
  table: "oauth_states",
  rowId: stateHash,
  field: "code_verifier",
})

export class OAuthStates extends Context.Service<
  OAuthStates,
  {
    /** Stores a pending authorization under `state` for `STATE_LIFETIME`. */
    readonly save: (state: string, pending: PendingAuthorization) => Effect.Effect<void, StoreError>
    /**
     * Consumes a state: returns its pending authorization once, and fails
     * for a missing, malformed, unknown, used or expired state. An expired
     * state is consumed too.
     */
    readonly consume: (
      state: string | undefined,
    ) => Effect.Effect<PendingAuthorization, OAuthStateError | StoreError>
  }
>()("app/oauth/OAuthStates") {
  static readonly layer = Layer.effect(
    OAuthStates,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const keyValue = yield* KeyValue
  const cipher = yield* TokenCipher

  const save = (state: string, pending: PendingAuthorization) =>
    Effect.gen(function* () {
      const stateHash = hashState(state)
      const codeVerifier =
        pending.codeVerifier === undefined
          ? undefined
          : yield* cipher.encrypt(pending.codeVerifier, verifierContext(stateHash))
      const record: StoredRecord = { ...pending, codeVerifier }
      const ttl = Duration.sum(STATE_LIFETIME, EXPIRED_STATE_GRACE)
      yield* keyValue.set(KEY_PREFIX + stateHash, JSON.stringify(record), ttl)
    }).pipe(Effect.withSpan("OAuthStates.save"))

  const reject = (reason: OAuthStateError["reason"], message: string) =>
    Effect.fail(new OAuthStateError({ reason, message }))

  const consume = (state: string | undefined) =>
    Effect.gen(function* () {
      if (state === undefined || state === "") {
        return yield* reject("missing", "The callback has no state parameter.")
      }
      if (!isWellFormedState(state)) {
        return yield* reject("malformed", "The state parameter is not one this service issued.")
      }
      const stateHash = hashState(state)
      const stored = yield* keyValue.take(KEY_PREFIX + stateHash)
      if (Option.isNone(stored)) {
        return yield* reject(
          "unknown",
          "The state is unknown or was already used; start the connection again.",
        )
      }

      const record = JSON.parse(stored.value) as StoredRecord
      const now = yield* Clock.currentTimeMillis
      if (now > record.expiresAt) {
        return yield* reject(
          "expired",
          "The authorization took longer than 10 minutes; start the connection again.",
        )
      }

      // A verifier that no longer decrypts (the key was removed from the
      // ring) makes the exchange impossible, so the state counts as unknown.
      const codeVerifier =
        record.codeVerifier === undefined
          ? undefined
          : yield* cipher
              .decrypt(record.codeVerifier, verifierContext(stateHash))
              .pipe(
                Effect.catch(() =>
                  reject("unknown", "The state can no longer be read; start the connection again."),
                ),
              )
      const pending: PendingAuthorization = { ...record, codeVerifier }
      return pending
    }).pipe(Effect.withSpan("OAuthStates.consume"))

  return OAuthStates.of({ save, consume })
})
