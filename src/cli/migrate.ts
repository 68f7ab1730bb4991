/**
 * `bun run migrate`: applies the pending migrations in schema/postgres to
 * DATABASE_URL, or to the embedded PGlite under DATA_DIR when DATABASE_URL is
 * unset. Exits with status 1 and one error line on failure.
 */
import { BunRuntime } from "@effect/platform-bun"
import { Cause, Console, Effect, Option } from "effect"
import { readAppSettings } from "../config/AppConfig.ts"
import { Database, describeDatabase } from "../storage/Database.ts"
import { Migrator } from "../storage/Migrator.ts"

const program = Effect.gen(function* () {
  const settings = yield* readAppSettings
  const options = {
    url: Option.getOrUndefined(settings.databaseUrl),
    dataDir: settings.dataDir,
    connectTimeout: settings.storeConnectTimeout,
  }
  yield* Console.log(`Migrating ${describeDatabase(options)}`)

  const applied = yield* Migrator.run().pipe(Effect.provide(Database.layer(options)))
  if (applied.length === 0) {
    yield* Console.log("No migration was pending. The schema is up to date.")
    return
  }
  const names = applied.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`)
  yield* Console.log(`Applied ${applied.length} migration(s): ${names.join(", ")}`)
})

const reportFailure = <E extends { readonly message: string }>(cause: Cause.Cause<E>) =>
  Option.match(Cause.findErrorOption(cause), {
    onNone: () => Console.error(Cause.pretty(cause)),
    onSome: (error) => Console.error(`Migration failed: ${error.message}`),
  })

BunRuntime.runMain({ disableErrorReporting: true })(program.pipe(Effect.tapCause(reportFailure)))
