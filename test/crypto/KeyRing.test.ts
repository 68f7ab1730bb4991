import { randomBytes } from "node:crypto"
import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { generateKeyRingEntry, type KeyRingError, parseKeyRing } from "../../src/crypto/KeyRing.ts"

const base64Key = (bytes = 32): string => randomBytes(bytes).toString("base64")

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/** Sets the lowest bit of a base64 digit, which a 32-byte key's last digit leaves zero. */
const withPaddingBit = (digit: string): string =>
  BASE64_ALPHABET[BASE64_ALPHABET.indexOf(digit) | 1]!

const parse = (value: string) => parseKeyRing(Redacted.make(value))

const parseError = (value: string) => Effect.flip(parse(value))

/** Every text form in which key bytes could leak from an error or a ring. */
const renderings = (value: unknown): ReadonlyArray<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  inspect(value, { depth: 10, showHidden: true }),
  value instanceof Error ? value.message : "",
  value instanceof Error ? (value.stack ?? "") : "",
]

/** Lists the spellings of a base64 key to search for: base64, base64url, hex and a part. */
const spellings = (key: string): ReadonlyArray<string> => {
  const bytes = Buffer.from(key, "base64")
  return [
    key.replace(/=+$/, ""),
    bytes.toString("base64url"),
    bytes.toString("hex"),
    // A 16-character window still catches a key printed in part.
    key.slice(4, 20),
  ]
}

const expectNoKeyMaterial = (value: unknown, keys: ReadonlyArray<string>): void => {
  for (const text of renderings(value)) {
    for (const key of keys) {
      for (const spelling of spellings(key)) {
        expect(text).not.toContain(spelling)
      }
    }
  }
}

const expectGuidance = (error: KeyRingError): void => {
  expect(error._tag).toBe("KeyRingError")
  expect(error.code).toBe("invalid_key_ring")
  expect(error.message).toContain("TOKEN_ENCRYPTION_KEYS")
  expect(error.message).toContain("id:base64key")
  expect(error.message).toContain("32 bytes")
  expect(error.message).toContain("openssl rand -base64 32")
}

describe("parseKeyRing", () => {
  it.effect("makes a single entry the active key", () =>
    Effect.gen(function* () {
      const ring = yield* parse(`primary:${base64Key()}`)

      expect(ring.active.id).toBe("primary")
      expect(ring.active.key.type).toBe("secret")
      expect(ring.active.key.symmetricKeySize).toBe(32)
      expect([...ring.keys.keys()]).toEqual(["primary"])
    }),
  )

  it.effect("makes the first of several entries active", () =>
    Effect.gen(function* () {
      const ring = yield* parse(`new:${base64Key()},old:${base64Key()},oldest:${base64Key()}`)

      expect(ring.active.id).toBe("new")
      expect([...ring.keys.keys()]).toEqual(["new", "old", "oldest"])
      expect(ring.keys.get("new")).toBe(ring.active.key)
    }),
  )

  it.effect("keeps each key's bytes", () =>
    Effect.gen(function* () {
      const first = randomBytes(32)
      const second = randomBytes(32)
      const ring = yield* parse(`a:${first.toString("base64")},b:${second.toString("base64")}`)

      expect(ring.keys.get("a")?.export().equals(first)).toBe(true)
      expect(ring.keys.get("b")?.export().equals(second)).toBe(true)
    }),
  )

  it.effect("accepts base64url and unpadded keys", () =>
    Effect.gen(function* () {
      // 0xfb 0xff yields both "+" and "/" in base64, "-" and "_" in base64url.
      const bytes = Buffer.alloc(32, 0xfb)
      bytes.writeUInt16BE(0xffff, 0)
      const standard = bytes.toString("base64")
      const url = bytes.toString("base64url")
      expect(standard).toMatch(/[+/]/)
      expect(url).toMatch(/[-_]/)

      const ring = yield* parse(
        `padded:${standard},unpadded:${standard.replace(/=+$/, "")},url:${url},urlpadded:${url}=`,
      )

      for (const id of ["padded", "unpadded", "url", "urlpadded"]) {
        expect(ring.keys.get(id)?.export().equals(bytes)).toBe(true)
      }
    }),
  )

  it.effect("ignores whitespace around entries, ids and keys", () =>
    Effect.gen(function* () {
      const ring = yield* parse(` a : ${base64Key()} ,\n b:${base64Key()}\n`)

      expect([...ring.keys.keys()]).toEqual(["a", "b"])
    }),
  )

  it.effect("accepts ids of 32 characters from the whole alphabet", () =>
    Effect.gen(function* () {
      const id = "Az09_-".padEnd(32, "x")
      const ring = yield* parse(`${id}:${base64Key()}`)

      expect(ring.active.id).toBe(id)
    }),
  )

  it.effect("keeps key bytes out of the ring's text forms", () =>
    Effect.gen(function* () {
      const keys = [base64Key(), base64Key()]
      const ring = yield* parse(`a:${keys[0]},b:${keys[1]}`)

      expectNoKeyMaterial(ring, keys)
    }),
  )
})

describe("parseKeyRing errors", () => {
  it.effect("rejects an empty value", () =>
    Effect.gen(function* () {
      for (const value of ["", "   ", "\n"]) {
        const error = yield* parseError(value)

        expect(error.reason).toBe("empty_value")
        expect(error.position).toBeUndefined()
        expect(error.message).toContain("empty")
        expectGuidance(error)
      }
    }),
  )

  it.effect("rejects an empty entry", () =>
    Effect.gen(function* () {
      const key = base64Key()
      const error = yield* parseError(`a:${key},`)

      expect(error.reason).toBe("empty_entry")
      expect(error.position).toBe(2)
      expect(error.message).toContain("entry 2")
      expectGuidance(error)
      expectNoKeyMaterial(error, [key])
    }),
  )

  it.effect("rejects an entry without a colon", () =>
    Effect.gen(function* () {
      const key = base64Key()
      const error = yield* parseError(key)

      expect(error.reason).toBe("missing_separator")
      expect(error.position).toBe(1)
      expect(error.keyId).toBeUndefined()
      expect(error.message).toContain("entry 1")
      expect(error.message).toContain('":"')
      expectGuidance(error)
      expectNoKeyMaterial(error, [key])
    }),
  )

  it.effect("rejects an invalid key id", () =>
    Effect.gen(function* () {
      const key = base64Key()
      const ids = ["", "has space", "dot.ted", "x".repeat(33), "ünï", "a/b"]

      for (const id of ids) {
        const error = yield* parseError(`good:${base64Key()},${id}:${key}`)

        expect(error.reason).toBe("invalid_key_id")
        expect(error.position).toBe(2)
        expect(error.keyId).toBeUndefined()
        expect(error.message).toContain("entry 2")
        expect(error.message).toContain("invalid key id")
        expectGuidance(error)
        expectNoKeyMaterial(error, [key])
      }
    }),
  )

  it.effect("rejects a swapped key and id", () =>
    Effect.gen(function* () {
      const key = base64Key()
      const error = yield* parseError(`${key}:primary`)

      expect(error.reason).toBe("invalid_key_id")
      expect(error.position).toBe(1)
      expectGuidance(error)
      expectNoKeyMaterial(error, [key])
    }),
  )

  it.effect("rejects a duplicate key id", () =>
    Effect.gen(function* () {
      const keys = [base64Key(), base64Key(), base64Key()]
      const error = yield* parseError(`a:${keys[0]},b:${keys[1]},a:${keys[2]}`)

      expect(error.reason).toBe("duplicate_key_id")
      expect(error.position).toBe(3)
      expect(error.keyId).toBe("a")
      expect(error.message).toContain('entry 3 (key id "a")')
      expect(error.message).toContain("entry 1")
      expectGuidance(error)
      expectNoKeyMaterial(error, keys)
    }),
  )

  it.effect("rejects a key that is not base64", () =>
    Effect.gen(function* () {
      const key = base64Key()
      const url = Buffer.from(key, "base64").toString("base64url")
      const invalidKeys = [
        "",
        "not base64 at all",
        `${key.slice(0, 20)}*${key.slice(20)}`,
        `${key}:extra`,
        `${key.slice(0, 43)}==`,
        `${key.slice(0, 42)}===`,
        // "+" from the standard alphabet mixed with "_" from base64url.
        `+_${url.slice(2)}`,
        // A final character with non-zero padding bits decodes to the same bytes.
        `${key.slice(0, 42)}${withPaddingBit(key[42]!)}=`,
      ]

      for (const invalidKey of invalidKeys) {
        const error = yield* parseError(`a:${base64Key()},old:${invalidKey}`)

        expect(error.reason, invalidKey).toBe("invalid_base64")
        expect(error.position).toBe(2)
        expect(error.keyId).toBe("old")
        expect(error.message).toContain('entry 2 (key id "old")')
        expect(error.message).toContain("base64")
        expectGuidance(error)
        expectNoKeyMaterial(error, [key])
      }
    }),
  )

  it.effect("rejects a key that is not 32 bytes", () =>
    Effect.gen(function* () {
      for (const length of [16, 24, 31, 33, 64]) {
        const key = base64Key(length)
        const error = yield* parseError(`a:${key}`)

        expect(error.reason).toBe("invalid_key_length")
        expect(error.position).toBe(1)
        expect(error.keyId).toBe("a")
        expect(error.message).toContain(`key of ${length} bytes`)
        expectGuidance(error)
        expectNoKeyMaterial(error, [key])
      }
    }),
  )

  it.effect("reports the first invalid entry", () =>
    Effect.gen(function* () {
      const error = yield* parseError(`a:${base64Key()},b:${base64Key(16)},c`)

      expect(error.reason).toBe("invalid_key_length")
      expect(error.position).toBe(2)
    }),
  )
})

describe("generateKeyRingEntry", () => {
  it.effect("generates an entry that parses", () =>
    Effect.gen(function* () {
      const entry = generateKeyRingEntry("dev")
      const ring = yield* parse(entry)

      expect(entry).toMatch(/^dev:[A-Za-z0-9+/]{43}=$/)
      expect(ring.active.id).toBe("dev")
      expect(ring.active.key.symmetricKeySize).toBe(32)
    }),
  )

  it("generates a fresh key each time", () => {
    expect(generateKeyRingEntry("dev")).not.toBe(generateKeyRingEntry("dev"))
  })

  it("rejects an invalid key id", () => {
    expect(() => generateKeyRingEntry("bad id")).toThrow(TypeError)
    expect(() => generateKeyRingEntry("")).toThrow(TypeError)
  })
})
