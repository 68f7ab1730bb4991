/**
 * Applies the versioned SQL files in `schema/postgres` (`NNNN_name.sql`).
 *
 * Each pending file runs in its own transaction, in version order, and is
 * recorded in `schema_migrations` with its SHA-256 checksum. Every transaction
 * first takes a transaction-scoped advisory lock keyed by the current schema,
 * so instances that start together apply each file once: the second waits,
 * then finds the file applied. Advisory locks work on PGlite too, where the
 * single connection serialises the instances anyway.
 *
 * A changed checksum of an applied file, or a pending file numbered below an
 * applied one, stops the run before anything is applied. Because every file
 * runs inside a transaction, a file cannot use statements that Postgres
 * rejects there, such as `CREATE INDEX CONCURRENTLY`.
 */
import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { splitStatements } from "./SqlScript.ts"

/** The migrations shipped with the service. */
export const SCHEMA_DIRECTORY = fileURLToPath(new URL("../../schema/postgres/", import.meta.url))

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** First key of the two-key advisory lock. The second key is a hash of the schema name. */
const LOCK_CLASS = 0x6d696772 // "migr"

export interface MigrationFile {
  readonly version: number
  readonly name: string
  readonly sql: string
  /** Lowercase hex SHA-256 of the file with CRLF line ends read as LF. */
  readonly checksum: string
}

export interface AppliedMigration {
  readonly version: number
  readonly name: string
}

export class MigrationError extends Data.TaggedError("MigrationError")<{
  readonly reason:
    | "read_failed"
    | "invalid_file_name"
    | "duplicate_version"
    | "checksum_mismatch"
    | "out_of_order"
    | "statement_failed"
  readonly version?: number
  readonly message: string
  readonly cause?: unknown
}> {
  readonly code = "migration_failed"
}

const fileLabel = (version: number, name: string): string =>
  `${String(version).padStart(4, "0")}_${name}`

/** Computes the checksum that `schema_migrations` records for a file's text. */
export const checksumOf = (sql: string): string =>
  createHash("sha256").update(sql.replace(/\r\n/g, "\n"), "utf8").digest("hex")

/** Reads the `.sql` files of a directory, sorted by version. Other files are ignored. */
const load = (directory: string = SCHEMA_DIRECTORY) =>
  Effect.gen(function* () {
    const readFailed = (cause: unknown) =>
      new MigrationError({
        reason: "read_failed",
        message: `Cannot read migrations in ${directory}: ${String(cause)}`,
        cause,
      })

    const names = yield* Effect.tryPromise({ try: () => readdir(directory), catch: readFailed })
    const files: Array<MigrationFile> = []
    for (const fileName of names.filter((name) => name.endsWith(".sql")).sort()) {
      const match = FILE_NAME.exec(fileName)
      if (match === null) {
        return yield* new MigrationError({
          reason: "invalid_file_name",
          message: `Migration file name ${fileName} is invalid: expected NNNN_name.sql, name of [a-z0-9_]`,
        })
      }

      const version = Number(match[1])
      if (files.some((file) => file.version === version)) {
        return yield* new MigrationError({
          reason: "duplicate_version",
          version,
          message: `Two migration files in ${directory} have version ${match[1]}`,
        })
      }

      const sql = yield* Effect.tryPromise({
        try: () => readFile(`${directory}/${fileName}`, "utf8"),
        catch: readFailed,
      })
      files.push({ version, name: match[2]!, sql, checksum: checksumOf(sql) })
    }
    return files
  })

interface AppliedRow {
  readonly version: number
  readonly name: string
  readonly checksum: string
}

/** Checks the applied files against `files` and returns the next file to apply. */
const nextPending = (
  files: ReadonlyArray<MigrationFile>,
  applied: ReadonlyArray<AppliedRow>,
): Effect.Effect<MigrationFile | undefined, MigrationError> =>
  Effect.gen(function* () {
    const byVersion = new Map(applied.map((row) => [row.version, row]))
    for (const file of files) {
      const row = byVersion.get(file.version)
      if (row !== undefined && row.checksum !== file.checksum) {
        return yield* new MigrationError({
          reason: "checksum_mismatch",
          version: file.version,
          message:
            `Migration ${fileLabel(file.version, file.name)} was changed after it was applied ` +
            `(recorded sha256 ${row.checksum}, file sha256 ${file.checksum}). Restore the ` +
            "file and put the change in a new migration.",
        })
      }
    }

    const pending = files.find((file) => !byVersion.has(file.version))
    if (pending === undefined) return undefined

    const latest = Math.max(...applied.map((row) => row.version))
    if (pending.version < latest) {
      return yield* new MigrationError({
        reason: "out_of_order",
        version: pending.version,
        message:
          `Migration ${fileLabel(pending.version, pending.name)} is pending, but version ` +
          `${latest} is already applied. Renumber it above ${latest}.`,
      })
    }
    return pending
  })

/** Returns the server's message for a failed statement, such as `column "x" does not exist`. */
const sqlErrorText = (error: SqlError): string => {
  const cause = error.reason.cause
  return cause instanceof Error && cause.message !== "" ? cause.message : error.message
}

/** Applies the next pending file, or returns undefined when none is pending. */
const step = (sql: SqlClient, files: ReadonlyArray<MigrationFile>) =>
  Effect.gen(function* () {
    yield* sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(current_schema()))`
    yield* sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`
    const applied = yield* sql<AppliedRow>`SELECT version, name, checksum FROM schema_migrations`

    const file = yield* nextPending(files, applied)
    if (file === undefined) return undefined

    const statements = splitStatements(file.sql)
    for (const [index, statement] of statements.entries()) {
      yield* sql.unsafe(statement).unprepared.pipe(
        Effect.mapError(
          (cause) =>
            new MigrationError({
              reason: "statement_failed",
              version: file.version,
              message:
                `Migration ${fileLabel(file.version, file.name)} failed at statement ` +
                `${index + 1} of ${statements.length}: ${sqlErrorText(cause)}`,
              cause,
            }),
        ),
      )
    }
    yield* sql`INSERT INTO schema_migrations (version, name, checksum)
      VALUES (${file.version}, ${file.name}, ${file.checksum})`
    return file
  })

/**
 * Applies every pending migration from `files` (by default, the files in
 * `SCHEMA_DIRECTORY`) and returns the ones this call applied, in order.
 */
const run = (options: { readonly files?: ReadonlyArray<MigrationFile> } = {}) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const files = options.files ?? (yield* load())
    const applied: Array<AppliedMigration> = []

    while (true) {
      const file: MigrationFile | undefined = yield* sql.withTransaction(step(sql, files))
      if (file === undefined) return applied

      applied.push({ version: file.version, name: file.name })
      yield* Effect.logInfo(`Applied migration ${fileLabel(file.version, file.name)}`)
    }
  }).pipe(Effect.withSpan("Migrator.run"))

/** Lists the migrations recorded in `schema_migrations`, oldest first. */
const applied: Effect.Effect<ReadonlyArray<AppliedMigration>, SqlError, SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient
    const exists = yield* sql<{
      readonly found: boolean
    }>`SELECT to_regclass('schema_migrations') IS NOT NULL AS found`
    if (exists[0]?.found !== true) return []
    return yield* sql<AppliedMigration>`SELECT version, name FROM schema_migrations
      ORDER BY version`
  },
)

export const Migrator = { load, run, applied } as const
