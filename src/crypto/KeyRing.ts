/**
 * The key ring for token encryption, parsed from TOKEN_ENCRYPTION_KEYS.
 *
 * The value is a comma-separated list of `id:base64key` entries. The first
 * entry is the active key, which encrypts new values. The others only
 * decrypt, so a rotation prepends a new key and keeps the old ones until
 * every stored value has been re-encrypted. Each key id matches
 * `[A-Za-z0-9_-]{1,32}` and each key is 32 bytes (AES-256) in standard
 * base64 or base64url, with or without padding.
 *
 * Error messages name the entry by position and key id and never contain
 * key bytes. An invalid key id is not echoed either, because a swapped
 * `key:id` entry would put the key in the id position.
 */
import { createSecretKey, type KeyObject, randomBytes } from "node:crypto"
import { Effect, Redacted, Schema } from "effect"

export const KEY_RING_VARIABLE = "TOKEN_ENCRYPTION_KEYS"

/** AES-256 key size in bytes. */
export const KEY_LENGTH = 32

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+={0,2}$/

const EXPECTED_FORM =
  `Expected comma-separated id:base64key entries with the active key first. ` +
  `Each id matches [A-Za-z0-9_-]{1,32} and each key is ${KEY_LENGTH} bytes in base64. ` +
  "Generate a key with `openssl rand -base64 32`."

/** One named key. The `KeyObject` keeps the bytes out of inspection and JSON output. */
export interface KeyRingEntry {
  readonly id: string
  readonly key: KeyObject
}

export interface KeyRing {
  /** The first entry, which encrypts new values. */
  readonly active: KeyRingEntry
  /** Every entry by key id, the active one included, in configuration order. */
  readonly keys: ReadonlyMap<string, KeyObject>
}

export class KeyRingError extends Schema.TaggedError<KeyRingError>()("KeyRingError", {
  reason: Schema.Literals([
    "empty_value",
    "empty_entry",
    "missing_separator",
    "invalid_key_id",
    "duplicate_key_id",
    "invalid_base64",
    "invalid_key_length",
  ]),
  /** 1-based position of the entry in the list, absent for `empty_value`. */
  position: Schema.optionalKey(Schema.Number),
  /** Key id of the entry, present only when the id itself is valid. */
  keyId: Schema.optionalKey(Schema.String),
  message: Schema.String,
}) {
  readonly code = "invalid_key_ring"
}

/** Tells whether `id` is a valid key id: 1 to 32 characters of `[A-Za-z0-9_-]`. */
export const isKeyId = (id: string): boolean => KEY_ID_PATTERN.test(id)

const entryLabel = (position: number, keyId?: string): string =>
  keyId === undefined ? `entry ${position}` : `entry ${position} (key id "${keyId}")`

const invalid = (
  reason: KeyRingError["reason"],
  problem: string,
  position?: number,
  keyId?: string,
): KeyRingError =>
  new KeyRingError({
    reason,
    ...(position === undefined ? {} : { position }),
    ...(keyId === undefined ? {} : { keyId }),
    message: `${KEY_RING_VARIABLE} is invalid: ${problem}. ${EXPECTED_FORM}`,
  })

/**
 * Decodes base64 or base64url strictly. Node's decoder skips characters
 * outside the alphabet, so the text must also re-encode to itself, which
 * rejects stray characters and non-zero padding bits.
 */
const decodeBase64 = (text: string): Buffer | undefined => {
  const isStandard = BASE64_PATTERN.test(text)
  if (!isStandard && !BASE64URL_PATTERN.test(text)) return undefined

  const unpadded = text.replace(/=+$/, "")
  const hasPadding = unpadded.length !== text.length
  if (hasPadding && text.length % 4 !== 0) return undefined

  const bytes = Buffer.from(unpadded, isStandard ? "base64" : "base64url")
  const reencoded = bytes.toString(isStandard ? "base64" : "base64url").replace(/=+$/, "")
  if (reencoded !== unpadded) {
    bytes.fill(0)
    return undefined
  }
  return bytes
}

const parseEntry = (
  raw: string,
  position: number,
  seen: ReadonlyMap<string, number>,
): KeyRingEntry | KeyRingError => {
  const entry = raw.trim()
  if (entry === "") {
    return invalid("empty_entry", `${entryLabel(position)} is empty`, position)
  }

  const separator = entry.indexOf(":")
  if (separator === -1) {
    return invalid(
      "missing_separator",
      `${entryLabel(position)} has no ":" between the key id and the key`,
      position,
    )
  }

  const id = entry.slice(0, separator).trim()
  if (!isKeyId(id)) {
    return invalid(
      "invalid_key_id",
      `${entryLabel(position)} has an invalid key id of ${id.length} characters`,
      position,
    )
  }

  const firstPosition = seen.get(id)
  if (firstPosition !== undefined) {
    return invalid(
      "duplicate_key_id",
      `${entryLabel(position, id)} repeats the key id of entry ${firstPosition}`,
      position,
      id,
    )
  }

  const bytes = decodeBase64(entry.slice(separator + 1).trim())
  if (bytes === undefined) {
    return invalid(
      "invalid_base64",
      `${entryLabel(position, id)} has a key that is not valid base64 or base64url`,
      position,
      id,
    )
  }

  const length = bytes.length
  if (length !== KEY_LENGTH) {
    bytes.fill(0)
    return invalid(
      "invalid_key_length",
      `${entryLabel(position, id)} has a key of ${length} bytes, but AES-256 needs ${KEY_LENGTH}`,
      position,
      id,
    )
  }

  // createSecretKey copies the bytes, so the decoded buffer can be wiped.
  const key = createSecretKey(bytes)
  bytes.fill(0)
  return { id, key }
}

/**
 * Parses a TOKEN_ENCRYPTION_KEYS value into a key ring. Whitespace around
 * entries, ids and keys is ignored. Fails on the first invalid entry.
 */
export const parseKeyRing = (
  value: Redacted.Redacted<string>,
): Effect.Effect<KeyRing, KeyRingError> =>
  Effect.suspend(() => {
    const text = Redacted.value(value)
    if (text.trim() === "") {
      return Effect.fail(invalid("empty_value", "the value is empty"))
    }

    const positions = new Map<string, number>()
    const keys = new Map<string, KeyObject>()
    const entries = text.split(",")
    for (const [index, raw] of entries.entries()) {
      const entry = parseEntry(raw, index + 1, positions)
      if (entry instanceof KeyRingError) return Effect.fail(entry)

      positions.set(entry.id, index + 1)
      keys.set(entry.id, entry.key)
    }

    const [activeId, activeKey] = keys.entries().next().value!
    return Effect.succeed({ active: { id: activeId, key: activeKey }, keys })
  })

/**
 * Generates a fresh `id:base64key` entry with a random 32-byte key, in the
 * form that parseKeyRing accepts. The returned string contains the key, so
 * callers must not log it.
 *
 * @throws TypeError when `id` is not a valid key id.
 */
export const generateKeyRingEntry = (id: string): string => {
  if (!isKeyId(id)) {
    throw new TypeError(`Invalid key id "${id}": expected 1 to 32 characters of [A-Za-z0-9_-]`)
  }
  return `${id}:${randomBytes(KEY_LENGTH).toString("base64")}`
}
