/**
 * `bun run rotate-keys [--batch-size N]`: re-encrypts every stored secret
 * that is not under the active (first) key of TOKEN_ENCRYPTION_KEYS, so the
 * older keys can be removed afterwards. Safe while the service runs, and safe
 * to run again. Reads its settings like the service; in embedded mode the
 * key ring is the one generated under DATA_DIR unless TOKEN_ENCRYPTION_KEYS
 * is set.
 */
import { BunRuntime } from "@effect/platform-bun"
import { Cause, Console, Effect, Layer, Option } from "effect"
import { isEmbedded, readAppSettings } from "../config/AppConfig.ts"
import { resolveSecrets } from "../config/EmbeddedSecrets.ts"
import * as P from "../config/Parsers.ts"
import { ConfigInvalid } from "../config/Setting.ts"
import { DEFAULT_ROTATION_BATCH_SIZE, rotateKeys } from "../crypto/Rotation.ts"
import { TokenCipher } from "../crypto/TokenCipher.ts"
import { Database, describeDatabase } from "../storage/Database.ts"

const USAGE = "usage: bun run rotate-keys [--batch-size N]"

const parseBatchSize = (args: ReadonlyArray<string>) => {
  if (args.length === 0) return Effect.succeed(DEFAULT_ROTATION_BATCH_SIZE)
  const parsed =
    args.length === 2 && args[0] === "--batch-size" ? P.positiveInteger(args[1]!) : undefined
  if (parsed?.ok) return Effect.succeed(parsed.value)
  return Effect.fail(
    new ConfigInvalid({ variable: "--batch-size", problem: "invalid arguments", expected: USAGE }),
  )
}

const program = Effect.gen(function* () {
  const batchSize = yield* parseBatchSize(process.argv.slice(2))
  const settings = yield* readAppSettings
  const options = {
    url: Option.getOrUndefined(settings.databaseUrl),
    dataDir: settings.dataDir,
    connectTimeout: settings.storeConnectTimeout,
  }
  const keyRing = Option.isSome(settings.tokenEncryptionKeys)
    ? settings.tokenEncryptionKeys
    : isEmbedded(settings)
      ? Option.some((yield* resolveSecrets(settings)).tokenEncryptionKeys)
      : Option.none()
  if (Option.isNone(keyRing)) {
    return yield* new ConfigInvalid({
      variable: "TOKEN_ENCRYPTION_KEYS",
      problem: "it is not set",
      expected: "comma-separated id:base64key pairs, the new active key first",
    })
  }

  yield* Console.log(`Re-encrypting secrets in ${describeDatabase(options)}`)
  const layer = Layer.merge(Database.layer(options), TokenCipher.layerFromValue(keyRing.value))
  const report = yield* rotateKeys({
    batchSize,
    onProgress: (progress) =>
      Console.log(
        `${progress.table}: batch ${progress.batch}, ${progress.rotated} row(s) re-encrypted, ` +
          `${progress.rotatedInTable} so far`,
      ),
  }).pipe(Effect.provide(layer))

  yield* Console.log(`Active key: ${report.activeKeyId}`)
  for (const table of report.tables) {
    yield* Console.log(
      `${table.table}: ${table.rotated} re-encrypted, ${table.remaining} remaining`,
    )
  }
  const remaining = report.tables.reduce((sum, table) => sum + table.remaining, 0)
  if (remaining > 0) {
    yield* Console.log(
      `${remaining} row(s) were locked by a running transaction or were written under an older ` +
        "key meanwhile. Run rotate-keys again once every instance uses the new key ring.",
    )
  }
})

const reportFailure = <E extends { readonly message: string }>(cause: Cause.Cause<E>) =>
  Option.match(Cause.findErrorOption(cause), {
    onNone: () => Console.error(Cause.pretty(cause)),
    onSome: (error) => Console.error(`Key rotation failed: ${error.message}`),
  })

BunRuntime.runMain({ disableErrorReporting: true })(program.pipe(Effect.tapCause(reportFailure)))
