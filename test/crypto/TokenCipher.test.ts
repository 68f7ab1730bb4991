import { randomBytes } from "node:crypto"
import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { parseKeyRing } from "../../src/crypto/KeyRing.ts"
import {
  type CipherContext,
  makeTokenCipher,
  TokenCipher,
  type TokenCipherError,
} from "../../src/crypto/TokenCipher.ts"

/** One random key per id for the whole file, so rings that share an id share its key. */
const keys = new Map<string, string>()
const keyFor = (id: string): string => {
  const existing = keys.get(id)
  if (existing !== undefined) return existing

  const key = randomBytes(32).toString("base64")
  keys.set(id, key)
  return key
}

const ringValue = (...ids: ReadonlyArray<string>) =>
  Redacted.make(ids.map((id) => `${id}:${keyFor(id)}`).join(","))

const cipherFor = (...ids: ReadonlyArray<string>) =>
  Effect.map(parseKeyRing(ringValue(...ids)), makeTokenCipher)

const context: CipherContext = {
  table: "integration_credentials",
  rowId: "8d0a4c3e-5d41-4a5e-9a52-1c7f3b0e2a91",
  field: "access_token",
}

const token = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

/** Flips every bit of one byte of the decoded data part of a ciphertext. */
const flipByte = (ciphertext: string, index: (length: number) => number): string => {
  const [version, keyId, encoded] = ciphertext.split(":")
  const data = Buffer.from(encoded!, "base64url")
  const position = index(data.length)
  data[position] = data[position]! ^ 0xff
  return `${version}:${keyId}:${data.toString("base64url")}`
}

const expectContextInError = (error: TokenCipherError): void => {
  expect(error._tag).toBe("TokenCipherError")
  expect(error.code).toBe("token_decryption_failed")
  expect(error.table).toBe(context.table)
  expect(error.field).toBe(context.field)
  expect(error.rowId).toBe(context.rowId)
  expect(error.message).toContain(`${context.table}.${context.field}`)
  expect(error.message).toContain(context.rowId)
}

const expectNoSecrets = (value: unknown, secrets: ReadonlyArray<string>): void => {
  const texts = [
    String(value),
    JSON.stringify(value) ?? "",
    inspect(value, { depth: 10, showHidden: true }),
    value instanceof Error ? value.message : "",
  ]
  for (const text of texts) {
    for (const secret of secrets) {
      expect(text).not.toContain(secret)
    }
  }
}

describe("TokenCipher round trip", () => {
  const plaintexts: ReadonlyArray<readonly [string, string]> = [
    ["a Slack bot token", token],
    ["an empty string", ""],
    ["unicode text", "tökén ✓ 🔑 日本語 \u0000 end"],
    ["a 4 KB token", randomBytes(3072).toString("base64url")],
  ]

  for (const [name, plaintext] of plaintexts) {
    it.effect(`decrypts ${name}`, () =>
      Effect.gen(function* () {
        const cipher = yield* TokenCipher
        const ciphertext = yield* cipher.encrypt(Redacted.make(plaintext), context)
        const decrypted = yield* cipher.decrypt(ciphertext, context)

        expect(Redacted.value(decrypted)).toBe(plaintext)
      }).pipe(Effect.provide(TokenCipher.layerFromValue(ringValue("a")))),
    )
  }

  it.effect("sizes a 4 KB token's ciphertext", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const plaintext = randomBytes(3072).toString("base64url")
      const ciphertext = yield* cipher.encrypt(Redacted.make(plaintext), context)

      expect(plaintext.length).toBe(4096)
      // base64url of 12 + 4096 + 16 bytes, plus the "v1:a:" header.
      expect(ciphertext.length).toBe(5 + Math.ceil(((12 + 4096 + 16) * 4) / 3))
    }),
  )

  it.effect("writes the version and active key id", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("current", "old")
      const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)

      expect(cipher.activeKeyId).toBe("current")
      expect(ciphertext).toMatch(/^v1:current:[A-Za-z0-9_-]+$/)
      expect(cipher.keyIdOf(ciphertext)).toBe("current")
      expect(cipher.isActive(ciphertext)).toBe(true)
    }),
  )

  it.effect("keeps the plaintext out of the ciphertext", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)

      expect(ciphertext).not.toContain(token)
      expect(ciphertext).not.toContain(Buffer.from(token).toString("base64url"))
    }),
  )

  it.effect("returns the plaintext redacted", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)
      const decrypted = yield* cipher.decrypt(ciphertext, context)

      expectNoSecrets(decrypted, [token])
    }),
  )

  it.effect("two encryptions of one value differ", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const first = yield* cipher.encrypt(Redacted.make(token), context)
      const second = yield* cipher.encrypt(Redacted.make(token), context)

      expect(first).not.toBe(second)
      expect(first.slice(5, 5 + 16)).not.toBe(second.slice(5, 5 + 16))
    }),
  )
})

describe("TokenCipher tampering", () => {
  const parts: ReadonlyArray<readonly [string, (length: number) => number]> = [
    ["nonce", () => 0],
    ["last nonce byte", () => 11],
    ["body", () => 12],
    ["tag", (length) => length - 1],
    ["first tag byte", (length) => length - 16],
  ]

  for (const [part, index] of parts) {
    it.effect(`rejects a flipped ${part}`, () =>
      Effect.gen(function* () {
        const cipher = yield* cipherFor("a")
        const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)
        const error = yield* Effect.flip(cipher.decrypt(flipByte(ciphertext, index), context))

        expect(error.reason).toBe("authentication_failed")
        expect(error.keyId).toBe("a")
        expect(error.message).toContain("authentication failed")
        expectContextInError(error)
        expectNoSecrets(error, [token, keyFor("a")])
      }),
    )
  }

  it.effect("rejects a ciphertext moved under another key id", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a", "b")
      const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)
      const relabeled = ciphertext.replace(/^v1:a:/, "v1:b:")
      const error = yield* Effect.flip(cipher.decrypt(relabeled, context))

      expect(error.reason).toBe("authentication_failed")
      expect(error.keyId).toBe("b")
    }),
  )

  it.effect("rejects a key with a reused id", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)
      const otherKey = Redacted.make(`a:${randomBytes(32).toString("base64")}`)
      const other = makeTokenCipher(yield* parseKeyRing(otherKey))
      const error = yield* Effect.flip(other.decrypt(ciphertext, context))

      expect(error.reason).toBe("authentication_failed")
    }),
  )
})

describe("TokenCipher associated data", () => {
  const moves: ReadonlyArray<readonly [string, CipherContext]> = [
    ["another row", { ...context, rowId: "0b9c6f52-7a43-4f0e-8d1c-5e2a9b3c4d10" }],
    ["another field", { ...context, field: "refresh_token" }],
    ["another table", { ...context, table: "oauth_states" }],
  ]

  for (const [name, target] of moves) {
    it.effect(`rejects a ciphertext copied to ${name}`, () =>
      Effect.gen(function* () {
        const cipher = yield* cipherFor("a")
        const ciphertext = yield* cipher.encrypt(Redacted.make(token), context)
        const error = yield* Effect.flip(cipher.decrypt(ciphertext, target))

        expect(error.reason).toBe("authentication_failed")
        expect(error.table).toBe(target.table)
        expect(error.field).toBe(target.field)
        expect(error.rowId).toBe(target.rowId)
        expect(error.message).toContain(target.rowId)
        expectNoSecrets(error, [token])
      }),
    )
  }

  it.effect("keeps the context fields apart", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      // Each pair collides under one naive encoding: plain concatenation, or
      // joining with ",", "." or '","'.
      const pairs: ReadonlyArray<readonly [CipherContext, CipherContext]> = [
        [
          { table: "t", field: "ab", rowId: "c" },
          { table: "t", field: "a", rowId: "bc" },
        ],
        [
          { table: "t", field: "a,b", rowId: "c" },
          { table: "t", field: "a", rowId: "b,c" },
        ],
        [
          { table: "a.b", field: "c", rowId: "1" },
          { table: "a", field: "b.c", rowId: "1" },
        ],
        [
          { table: "t", field: 'a","b', rowId: "c" },
          { table: "t", field: "a", rowId: 'b","c' },
        ],
      ]

      for (const [encryptedFor, decryptedFor] of pairs) {
        const ciphertext = yield* cipher.encrypt(Redacted.make(token), encryptedFor)
        const error = yield* Effect.flip(cipher.decrypt(ciphertext, decryptedFor))

        expect(error.reason).toBe("authentication_failed")
      }
    }),
  )
})

describe("TokenCipher key rotation", () => {
  it.effect("reports an unknown key id", () =>
    Effect.gen(function* () {
      const before = yield* cipherFor("retired")
      const after = yield* cipherFor("fresh")
      const ciphertext = yield* before.encrypt(Redacted.make(token), context)
      const error = yield* Effect.flip(after.decrypt(ciphertext, context))

      expect(error.reason).toBe("unknown_key_id")
      expect(error.keyId).toBe("retired")
      expect(error.message).toContain('key id "retired"')
      expect(error.message).toContain("TOKEN_ENCRYPTION_KEYS")
      expect(error.message).toContain("Add that key back")
      expectContextInError(error)
      expectNoSecrets(error, [token, keyFor("retired"), keyFor("fresh")])
    }),
  )

  it.effect("decrypts old values after a rotation", () =>
    Effect.gen(function* () {
      const before = yield* cipherFor("a")
      const during = yield* cipherFor("b", "a")
      const ciphertext = yield* before.encrypt(Redacted.make(token), context)

      expect(during.activeKeyId).toBe("b")
      expect(during.keyIdOf(ciphertext)).toBe("a")
      expect(during.isActive(ciphertext)).toBe(false)
      expect(Redacted.value(yield* during.decrypt(ciphertext, context))).toBe(token)
    }),
  )

  it.effect("re-encrypts under the new active key", () =>
    Effect.gen(function* () {
      const before = yield* cipherFor("a")
      const during = yield* cipherFor("b", "a")
      const after = yield* cipherFor("b")

      const old = yield* before.encrypt(Redacted.make(token), context)
      const plaintext = yield* during.decrypt(old, context)
      const rotated = yield* during.encrypt(plaintext, context)

      expect(during.keyIdOf(rotated)).toBe("b")
      expect(during.isActive(rotated)).toBe(true)
      expect(after.keyIdOf(rotated)).toBe("b")
      expect(Redacted.value(yield* after.decrypt(rotated, context))).toBe(token)
    }),
  )
})

describe("TokenCipher malformed input", () => {
  const malformed: ReadonlyArray<readonly [string, string]> = [
    ["an empty string", ""],
    ["a plaintext token", token],
    ["a missing data part", "v1:a"],
    ["an empty data part", "v1:a:"],
    ["an extra part", "v1:a:AAAA:AAAA"],
    ["an invalid key id", `v1:bad id:${"A".repeat(40)}`],
    ["a data part that is not base64url", `v1:a:${"A".repeat(40)}+/`],
    ["a padded data part", `v1:a:${"A".repeat(38)}==`],
    ["a data part shorter than nonce and tag", `v1:a:${Buffer.alloc(27).toString("base64url")}`],
    // 28 bytes end in a digit with four padding bits, and "B" sets one of them.
    ["non-zero padding bits", `v1:a:${Buffer.alloc(28).toString("base64url").slice(0, -1)}B`],
    ["a version without digits", `version:a:${"A".repeat(40)}`],
  ]

  for (const [name, ciphertext] of malformed) {
    it.effect(`rejects ${name}`, () =>
      Effect.gen(function* () {
        const cipher = yield* cipherFor("a")
        const error = yield* Effect.flip(cipher.decrypt(ciphertext, context))

        expect(error.reason).toBe("malformed_ciphertext")
        expect(error.message).toContain("v1:<keyId>:<base64url data>")
        expectContextInError(error)
        expect(cipher.isActive(ciphertext)).toBe(false)
      }),
    )
  }

  it.effect("rejects another format version", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")
      const valid = yield* cipher.encrypt(Redacted.make(token), context)
      const future = valid.replace(/^v1:/, "v2:")
      const error = yield* Effect.flip(cipher.decrypt(future, context))

      expect(error.reason).toBe("unsupported_version")
      expect(error.message).toContain("v2")
      expectContextInError(error)
      expect(cipher.keyIdOf(future)).toBeUndefined()
      expect(cipher.isActive(future)).toBe(false)
    }),
  )

  it.effect("finds no key id in text of another form", () =>
    Effect.gen(function* () {
      const cipher = yield* cipherFor("a")

      for (const text of ["", token, "v1:", "v1:a", "v1::AAAA", "v1:bad id:AAAA", "v11:a:AAAA"]) {
        expect(cipher.keyIdOf(text), text).toBeUndefined()
      }
    }),
  )
})

describe("TokenCipher layers", () => {
  it.effect("fails to build from an invalid key ring", () =>
    Effect.gen(function* () {
      const layer = TokenCipher.layerFromValue(Redacted.make("a:short"))
      const error = yield* Effect.flip(Layer.build(layer))

      expect(error._tag).toBe("KeyRingError")
      expect(error.code).toBe("invalid_key_ring")
    }),
  )

  it.effect("builds from a parsed key ring", () =>
    Effect.gen(function* () {
      const keyRing = yield* parseKeyRing(ringValue("b", "a"))
      const cipher = yield* TokenCipher.pipe(Effect.provide(TokenCipher.layer(keyRing)))

      expect(cipher.activeKeyId).toBe("b")
    }),
  )
})
