/**
 * Applies the versioned ClickHouse schema in `schema/clickhouse/` and the
 * retention (TTL) settings, at start-up.
 *
 * Each file `NNNN_name.sql` is one migration, applied once in version order
 * and recorded with its SHA-256 in `schema_migrations`. An applied file must
 * not change: a different checksum stops the start-up. Every statement uses
 * `IF NOT EXISTS`, so two instances starting at once, or a start-up stopped
 * between two statements, apply a file again without harm.
 *
 * TTLs are not part of the files because they come from settings. The
 * migrator records the retention each table has in `schema_settings` and runs
 * `ALTER TABLE ... MODIFY TTL` only for tables whose retention changed.
 */
import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"
import type { ClickHouseShape } from "./ClickHouseAdapter.ts"
import type { ClickHouseError } from "./ClickHouseError.ts"
import { EVENT_KINDS } from "./Events.ts"
import { formatDateTime64, TABLES } from "./Tables.ts"

export const DEFAULT_MIGRATIONS_DIRECTORY = fileURLToPath(
  new URL("../../schema/clickhouse/", import.meta.url),
)

export interface MigratorOptions {
  /** Days to keep raw events and per-minute aggregates. */
  readonly ttlDays: number
  /** Days to keep per-hour aggregates. */
  readonly hourlyTtlDays: number
  readonly directory?: string
}

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  reason: Schema.Literals(["unreadable", "invalid_file_name", "checksum_mismatch"]),
  file: Schema.optionalKey(Schema.String),
  message: Schema.String,
}) {
  readonly code = "clickhouse_migration_failed"
}

export interface Migration {
  readonly version: number
  readonly name: string
  readonly checksum: string
  readonly statements: ReadonlyArray<string>
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** Splits a file into statements: each ends with `;` at the end of a line; `--` lines are comments. */
export const splitStatements = (text: string): ReadonlyArray<string> =>
  text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)

/** Reads and orders the migration files of a directory. */
export const readMigrations = (
  directory: string,
): Effect.Effect<ReadonlyArray<Migration>, MigrationError> =>
  Effect.gen(function* () {
    const unreadable = (file: string | undefined) => (cause: unknown) =>
      new MigrationError({
        reason: "unreadable",
        ...(file === undefined ? {} : { file }),
        message: `Cannot read ClickHouse migrations in ${directory}: ${String(cause)}`,
      })
    const names = yield* Effect.tryPromise({
      try: () => readdir(directory),
      catch: unreadable(undefined),
    })

    const migrations: Array<Migration> = []
    for (const file of names.filter((name) => name.endsWith(".sql")).sort()) {
      const match = FILE_NAME.exec(file)
      if (match === null) {
        return yield* new MigrationError({
          reason: "invalid_file_name",
          file,
          message: `ClickHouse migration ${file} is not named NNNN_lowercase_name.sql`,
        })
      }
      const text = yield* Effect.tryPromise({
        try: () => readFile(`${directory}/${file}`, "utf8"),
        catch: unreadable(file),
      })
      migrations.push({
        version: Number(match[1]),
        name: file,
        checksum: createHash("sha256").update(text).digest("hex"),
        statements: splitStatements(text),
      })
    }
    return migrations
  })

const BOOKKEEPING = [
  `CREATE TABLE IF NOT EXISTS schema_migrations
   (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
   ENGINE = ReplacingMergeTree ORDER BY version`,
  `CREATE TABLE IF NOT EXISTS schema_settings
   (name String, value String, updated_at DateTime64(3, 'UTC'))
   ENGINE = ReplacingMergeTree(updated_at) ORDER BY name`,
]

interface AppliedRow {
  readonly version: number
  readonly name: string
  readonly checksum: string
}

/** Applies the migrations not yet recorded; returns the names of those it applied. */
const applyMigrations = (
  clickhouse: ClickHouseShape,
  migrations: ReadonlyArray<Migration>,
): Effect.Effect<ReadonlyArray<string>, ClickHouseError | MigrationError> =>
  Effect.gen(function* () {
    const rows = yield* clickhouse.query<AppliedRow>(
      "SELECT version, name, checksum FROM schema_migrations FINAL",
    )
    const applied = new Map(rows.map((row) => [row.version, row]))

    const names: Array<string> = []
    for (const migration of migrations) {
      const previous = applied.get(migration.version)
      if (previous !== undefined) {
        if (previous.checksum !== migration.checksum) {
          return yield* new MigrationError({
            reason: "checksum_mismatch",
            file: migration.name,
            message:
              `ClickHouse migration ${migration.name} changed after it was applied as ` +
              `${previous.name}. Restore the file and add the change as a new migration.`,
          })
        }
        continue
      }

      for (const statement of migration.statements) yield* clickhouse.command(statement)
      yield* clickhouse.insert("schema_migrations", [
        {
          version: migration.version,
          name: migration.name,
          checksum: migration.checksum,
          applied_at: formatDateTime64(Date.now()),
        },
      ])
      yield* Effect.logInfo("Applied ClickHouse migration").pipe(
        Effect.annotateLogs({ migration: migration.name }),
      )
      names.push(migration.name)
    }
    return names
  })

interface Retention {
  readonly table: string
  readonly expression: string
}

const retentions = (options: MigratorOptions): ReadonlyArray<Retention> =>
  EVENT_KINDS.flatMap((kind) => {
    const tables = TABLES[kind]
    return [
      { table: tables.raw, expression: `toDateTime(time) + toIntervalDay(${options.ttlDays})` },
      { table: tables.minute, expression: `bucket + toIntervalDay(${options.ttlDays})` },
      { table: tables.hour, expression: `bucket + toIntervalDay(${options.hourlyTtlDays})` },
    ]
  })

/** Sets the TTL of each table whose recorded retention differs from the settings. */
const applyRetention = (
  clickhouse: ClickHouseShape,
  options: MigratorOptions,
): Effect.Effect<void, ClickHouseError> =>
  Effect.gen(function* () {
    const rows = yield* clickhouse.query<{ name: string; value: string }>(
      "SELECT name, value FROM schema_settings FINAL WHERE startsWith(name, 'ttl.')",
    )
    const recorded = new Map(rows.map((row) => [row.name, row.value]))

    const changed: Array<string> = []
    for (const { table, expression } of retentions(options)) {
      const name = `ttl.${table}`
      if (recorded.get(name) === expression) continue
      yield* clickhouse.command(`ALTER TABLE ${table} MODIFY TTL ${expression}`)
      yield* clickhouse.insert("schema_settings", [
        { name, value: expression, updated_at: formatDateTime64(Date.now()) },
      ])
      changed.push(table)
    }
    if (changed.length > 0) {
      yield* Effect.logInfo("Set ClickHouse table TTLs").pipe(
        Effect.annotateLogs({
          tables: changed.join(", "),
          ttlDays: options.ttlDays,
          hourlyTtlDays: options.hourlyTtlDays,
        }),
      )
    }
  })

const checkDays = (name: string, days: number) =>
  Number.isSafeInteger(days) && days > 0
    ? Effect.void
    : Effect.die(new RangeError(`${name} must be a positive whole number of days, got ${days}`))

/** Brings the schema and the TTLs up to date. */
export const migrate = (
  clickhouse: ClickHouseShape,
  options: MigratorOptions,
): Effect.Effect<ReadonlyArray<string>, ClickHouseError | MigrationError> =>
  Effect.gen(function* () {
    yield* checkDays("ttlDays", options.ttlDays)
    yield* checkDays("hourlyTtlDays", options.hourlyTtlDays)
    const migrations = yield* readMigrations(options.directory ?? DEFAULT_MIGRATIONS_DIRECTORY)
    for (const statement of BOOKKEEPING) yield* clickhouse.command(statement)
    const applied = yield* applyMigrations(clickhouse, migrations)
    yield* applyRetention(clickhouse, options)
    return applied
  }).pipe(Effect.withSpan("Migrator.migrate"))
