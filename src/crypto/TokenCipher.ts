/**
 * Encrypts and decrypts stored tokens with AES-256-GCM under the key ring.
 *
 * Ciphertext format, version 1:
 *
 *     v1:<keyId>:<base64url(nonce ‖ ciphertext ‖ tag)>
 *
 * - `keyId` names the key-ring entry that encrypted the value, so a rotated
 *   ring can still decrypt old values and find the ones to re-encrypt.
 * - `nonce` is 12 random bytes (96 bits) drawn for every value, and `tag` is
 *   the 16-byte (128-bit) GCM tag.
 * - base64url has no padding.
 *
 * The GCM associated data is the UTF-8 bytes of the JSON array
 * `["v1", keyId, table, field, rowId]`. JSON string escaping makes that
 * encoding injective, so a ciphertext copied into another row, field or
 * table, or given another key id or version prefix, fails authentication.
 *
 * NIST SP 800-38D limits GCM with random 96-bit nonces to 2^32 encryptions
 * per key. Rotating the active key starts a new count.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from "node:crypto"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import {
  isKeyId,
  KEY_RING_VARIABLE,
  type KeyRing,
  type KeyRingError,
  parseKeyRing,
} from "./KeyRing.ts"

const VERSION = "v1"
const ALGORITHM = "aes-256-gcm"
const NONCE_LENGTH = 12
const TAG_LENGTH = 16
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/
const VERSION_PATTERN = /^v[0-9]{1,9}$/

/** The row and column that a ciphertext belongs to, bound in as associated data. */
export interface CipherContext {
  readonly table: string
  readonly rowId: string
  readonly field: string
}

export class TokenCipherError extends Schema.TaggedError<TokenCipherError>()("TokenCipherError", {
  reason: Schema.Literals([
    "unknown_key_id",
    "malformed_ciphertext",
    "unsupported_version",
    "authentication_failed",
  ]),
  table: Schema.String,
  field: Schema.String,
  rowId: Schema.String,
  /** Key id from the ciphertext, present once the header has parsed. */
  keyId: Schema.optionalKey(Schema.String),
  message: Schema.String,
}) {
  readonly code = "token_decryption_failed"
}

export interface TokenCipherShape {
  /** Key id that `encrypt` writes into new ciphertexts. */
  readonly activeKeyId: string
  /** Encrypts under the active key with a fresh random nonce. */
  readonly encrypt: (
    plaintext: Redacted.Redacted<string>,
    context: CipherContext,
  ) => Effect.Effect<string>
  /** Decrypts a ciphertext that was encrypted for the same context. */
  readonly decrypt: (
    ciphertext: string,
    context: CipherContext,
  ) => Effect.Effect<Redacted.Redacted<string>, TokenCipherError>
  /** Returns the key id of a well-formed version 1 ciphertext, or undefined for other text. */
  readonly keyIdOf: (ciphertext: string) => string | undefined
  /** Tells whether a ciphertext is version 1 under the active key, so rotation can skip it. */
  readonly isActive: (ciphertext: string) => boolean
}

const associatedData = (keyId: string, context: CipherContext): Buffer =>
  Buffer.from(JSON.stringify([VERSION, keyId, context.table, context.field, context.rowId]))

const describeContext = (context: CipherContext): string =>
  `${context.table}.${context.field} of row "${context.rowId}"`

const decryptionError = (
  reason: TokenCipherError["reason"],
  context: CipherContext,
  problem: string,
  keyId?: string,
): TokenCipherError =>
  new TokenCipherError({
    reason,
    table: context.table,
    field: context.field,
    rowId: context.rowId,
    ...(keyId === undefined ? {} : { keyId }),
    message: `Cannot decrypt ${describeContext(context)}: ${problem}`,
  })

/** Decodes unpadded base64url strictly: the text must re-encode to itself. */
const decodeBase64url = (text: string): Buffer | undefined => {
  if (!BASE64URL_PATTERN.test(text)) return undefined

  const bytes = Buffer.from(text, "base64url")
  return bytes.toString("base64url") === text ? bytes : undefined
}

interface ParsedCiphertext {
  readonly keyId: string
  readonly data: Buffer
}

interface ParseFailure {
  readonly reason: "malformed_ciphertext" | "unsupported_version"
  readonly problem: string
  readonly keyId?: string
}

const EXPECTED_FORM = `expected ${VERSION}:<keyId>:<base64url data>`

/** Parses and validates the text form of a ciphertext, without using any key. */
const parseCiphertext = (ciphertext: string): ParsedCiphertext | ParseFailure => {
  const parts = ciphertext.split(":")
  const [version, keyId, encoded] = parts
  if (parts.length !== 3 || version === undefined || keyId === undefined) {
    const problem = `the value is not a ciphertext, ${EXPECTED_FORM}`
    return { reason: "malformed_ciphertext", problem }
  }

  if (version !== VERSION) {
    if (!VERSION_PATTERN.test(version)) {
      const problem = `the value has no version prefix, ${EXPECTED_FORM}`
      return { reason: "malformed_ciphertext", problem }
    }
    const problem = `ciphertext format ${version} is not supported, this build reads only ${VERSION}`
    return { reason: "unsupported_version", problem }
  }

  if (!isKeyId(keyId)) {
    const problem = `the key id is invalid, ${EXPECTED_FORM}`
    return { reason: "malformed_ciphertext", problem }
  }

  const data = decodeBase64url(encoded ?? "")
  if (data === undefined || data.length < NONCE_LENGTH + TAG_LENGTH) {
    const minimum = NONCE_LENGTH + TAG_LENGTH
    const problem = `the data is not unpadded base64url of at least ${minimum} bytes, ${EXPECTED_FORM}`
    return { reason: "malformed_ciphertext", problem, keyId }
  }

  return { keyId, data }
}

const keyIdOf = (ciphertext: string): string | undefined => {
  const parsed = parseCiphertext(ciphertext)
  return "data" in parsed ? parsed.keyId : undefined
}

const encryptSync = (
  keyId: string,
  key: KeyObject,
  plaintext: Redacted.Redacted<string>,
  context: CipherContext,
): string => {
  const nonce = randomBytes(NONCE_LENGTH)
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_LENGTH })
  cipher.setAAD(associatedData(keyId, context))

  const body = cipher.update(Redacted.value(plaintext), "utf8")
  const last = cipher.final()
  const tag = cipher.getAuthTag()

  const data = Buffer.concat([nonce, body, last, tag]).toString("base64url")
  return `${VERSION}:${keyId}:${data}`
}

const decryptSync = (
  keyRing: KeyRing,
  ciphertext: string,
  context: CipherContext,
): Redacted.Redacted<string> | TokenCipherError => {
  const parsed = parseCiphertext(ciphertext)
  if (!("data" in parsed)) {
    return decryptionError(parsed.reason, context, parsed.problem, parsed.keyId)
  }

  const { keyId, data } = parsed
  const key = keyRing.keys.get(keyId)
  if (key === undefined) {
    const problem =
      `the value was encrypted under key id "${keyId}", which is not in ${KEY_RING_VARIABLE}. ` +
      `Add that key back to ${KEY_RING_VARIABLE}, after the active key, to decrypt it`
    return decryptionError("unknown_key_id", context, problem, keyId)
  }

  const nonce = data.subarray(0, NONCE_LENGTH)
  const body = data.subarray(NONCE_LENGTH, data.length - TAG_LENGTH)
  const tag = data.subarray(data.length - TAG_LENGTH)

  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_LENGTH })
  decipher.setAAD(associatedData(keyId, context))
  decipher.setAuthTag(tag)

  let plaintext: Buffer
  try {
    plaintext = Buffer.concat([decipher.update(body), decipher.final()])
  } catch {
    // GCM reports every tag mismatch the same way: a modified nonce, body or
    // tag, a wrong key with a reused id, or associated data from another row.
    const problem =
      `authentication failed under key id "${keyId}", so the ciphertext was modified ` +
      "or was encrypted for another table, field or row"
    return decryptionError("authentication_failed", context, problem, keyId)
  }

  const text = plaintext.toString("utf8")
  plaintext.fill(0)
  return Redacted.make(text)
}

/** Builds the cipher for a parsed key ring. */
export const makeTokenCipher = (keyRing: KeyRing): TokenCipherShape => {
  const active = keyRing.active

  return {
    activeKeyId: active.id,
    encrypt: (plaintext, context) =>
      Effect.sync(() => encryptSync(active.id, active.key, plaintext, context)),
    decrypt: (ciphertext, context) =>
      Effect.suspend(() => {
        const result = decryptSync(keyRing, ciphertext, context)
        return result instanceof TokenCipherError ? Effect.fail(result) : Effect.succeed(result)
      }),
    keyIdOf,
    isActive: (ciphertext) => keyIdOf(ciphertext) === active.id,
  }
}

export class TokenCipher extends Context.Service<TokenCipher, TokenCipherShape>()(
  "app/TokenCipher",
) {
  /** Provides the cipher for an already parsed key ring. */
  static readonly layer = (keyRing: KeyRing): Layer.Layer<TokenCipher> =>
    Layer.succeed(TokenCipher, makeTokenCipher(keyRing))

  /** Parses a TOKEN_ENCRYPTION_KEYS value and provides the cipher for it. */
  static readonly layerFromValue = (
    value: Redacted.Redacted<string>,
  ): Layer.Layer<TokenCipher, KeyRingError> =>
    Layer.effect(TokenCipher, Effect.map(parseKeyRing(value), makeTokenCipher))
}
