import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto"
import { Redacted } from "effect"

export type HmacAlgorithm = "sha1" | "sha256" | "sha512"

export const hmacDigestLength: Record<HmacAlgorithm, number> = {
  sha1: 20,
  sha256: 32,
  sha512: 64,
}

/** The keys of one provider, imported once so each request only hashes. */
export interface HmacKeySet {
  readonly algorithm: HmacAlgorithm
  readonly keys: ReadonlyArray<KeyObject>
  readonly digestLength: number
}

/** Part of the signed content. Strings are hashed as UTF-8. */
export type SignedPart = string | Uint8Array

export const hmacKeysFromBytes = (
  algorithm: HmacAlgorithm,
  keys: ReadonlyArray<Uint8Array>,
): HmacKeySet => ({
  algorithm,
  keys: keys.map((key) => createSecretKey(key)),
  digestLength: hmacDigestLength[algorithm],
})

/** Uses the UTF-8 bytes of each secret as the HMAC key, as most providers do. */
export const hmacKeysFromSecrets = (
  algorithm: HmacAlgorithm,
  secrets: ReadonlyArray<Redacted.Redacted<string>>,
): HmacKeySet =>
  hmacKeysFromBytes(
    algorithm,
    secrets.map((secret) => Buffer.from(Redacted.value(secret), "utf8")),
  )

export const computeHmac = (
  algorithm: HmacAlgorithm,
  key: KeyObject,
  parts: ReadonlyArray<SignedPart>,
): Buffer => {
  const hmac = createHmac(algorithm, key)
  for (const part of parts) hmac.update(part)
  return hmac.digest()
}

/**
 * Finds the first key whose HMAC over `parts` equals one of the candidates
 * and returns its index, or -1. Candidates must already have the digest
 * length, and each comparison runs in constant time. No HMAC is computed
 * when there is no candidate.
 */
export const findMatchingKey = (
  keySet: HmacKeySet,
  parts: ReadonlyArray<SignedPart>,
  candidates: ReadonlyArray<Uint8Array>,
): number => {
  if (candidates.length === 0) return -1

  for (let index = 0; index < keySet.keys.length; index++) {
    const expected = computeHmac(keySet.algorithm, keySet.keys[index]!, parts)
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return index
      }
    }
  }
  return -1
}
