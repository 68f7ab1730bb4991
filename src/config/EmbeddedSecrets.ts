/**
 * Resolves the encryption key ring, admin API key and destination signing
 * secret of this run. Values from the environment win. When every store
 * runs embedded, missing values are generated once under DATA_DIR (file
 * mode 0600) and reused on later starts. With any server store configured,
 * a missing key stops the boot, because a key generated on one instance
 * would not decrypt another instance's rows.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option, Redacted } from "effect"
import { generateKeyRingEntry } from "../crypto/KeyRing.ts"
import { type AppSettings, isEmbedded } from "./AppConfig.ts"
import { ConfigInvalid } from "./Setting.ts"

export interface ResolvedSecrets {
  readonly tokenEncryptionKeys: Redacted.Redacted<string>
  readonly adminApiKey: Redacted.Redacted<string>
  /** Signs deliveries to destinations; `undefined` leaves them unsigned. */
  readonly destinationSigningSecret: Redacted.Redacted<string> | undefined
  /** Set when this start generated the admin key, so it can be shown once. */
  readonly generatedAdminKey: boolean
  /** Files read or written, for the start-up log. */
  readonly files: ReadonlyArray<string>
}

const readOrCreate = (path: string, create: () => string) =>
  Effect.try({
    try: () => {
      if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), created: false }
      const value = create()
      writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" })
      chmodSync(path, 0o600)
      return { value, created: true }
    },
    catch: (error) =>
      new ConfigInvalid({
        variable: "DATA_DIR",
        problem: `cannot read or write ${path}: ${(error as Error).message}`,
        expected: "a writable directory",
      }),
  })

const missing = (variable: string, expected: string) =>
  new ConfigInvalid({
    variable,
    problem:
      "not set, and a server store is configured (DATABASE_URL, REDIS_URL or CLICKHOUSE_URL)",
    expected,
  })

export const resolveSecrets = (settings: AppSettings) =>
  Effect.gen(function* () {
    const embedded = isEmbedded(settings)
    if (!embedded) {
      if (Option.isNone(settings.tokenEncryptionKeys)) {
        return yield* Effect.fail(
          missing(
            "TOKEN_ENCRYPTION_KEYS",
            "id:base64key pairs; generate one with: echo k1:$(openssl rand -base64 32)",
          ),
        )
      }
      if (Option.isNone(settings.adminApiKey)) {
        return yield* Effect.fail(
          missing(
            "ADMIN_API_KEY",
            "a random string of at least 32 characters (openssl rand -hex 32)",
          ),
        )
      }
    }

    const files: Array<string> = []
    if (Option.isNone(settings.tokenEncryptionKeys) || Option.isNone(settings.adminApiKey)) {
      yield* Effect.try({
        try: () => mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 }),
        catch: (error) =>
          new ConfigInvalid({
            variable: "DATA_DIR",
            problem: `cannot create ${settings.dataDir}: ${(error as Error).message}`,
            expected: "a writable directory",
          }),
      })
    }

    let tokenEncryptionKeys: Redacted.Redacted<string>
    if (Option.isSome(settings.tokenEncryptionKeys)) {
      tokenEncryptionKeys = settings.tokenEncryptionKeys.value
    } else {
      const path = join(settings.dataDir, "token-encryption-keys")
      const file = yield* readOrCreate(path, () => generateKeyRingEntry("dev1"))
      tokenEncryptionKeys = Redacted.make(file.value, { label: "TOKEN_ENCRYPTION_KEYS" })
      files.push(path)
    }

    let adminApiKey: Redacted.Redacted<string>
    let generatedAdminKey = false
    if (Option.isSome(settings.adminApiKey)) {
      adminApiKey = settings.adminApiKey.value
    } else {
      const path = join(settings.dataDir, "admin-api-key")
      const file = yield* readOrCreate(path, () => randomBytes(32).toString("hex"))
      adminApiKey = Redacted.make(file.value, { label: "ADMIN_API_KEY" })
      generatedAdminKey = file.created
      files.push(path)
    }

    let destinationSigningSecret = Option.getOrUndefined(settings.destinationSigningSecret)
    if (destinationSigningSecret === undefined && embedded) {
      const path = join(settings.dataDir, "destination-signing-secret")
      const file = yield* readOrCreate(path, () => `whsec_${randomBytes(32).toString("base64")}`)
      destinationSigningSecret = Redacted.make(file.value, { label: "DESTINATION_SIGNING_SECRET" })
      files.push(path)
    }

    return {
      tokenEncryptionKeys,
      adminApiKey,
      destinationSigningSecret,
      generatedAdminKey,
      files,
    } satisfies ResolvedSecrets
  })
