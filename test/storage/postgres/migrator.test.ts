import { readdir } from "node:fs/promises"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { Database } from "../../../src/storage/Database.ts"
import {
  checksumOf,
  MigrationError,
  type MigrationFile,
  Migrator,
  SCHEMA_DIRECTORY,
} from "../../../src/storage/Migrator.ts"
import { BACKENDS, schemaUrl, temporarySchema } from "./backends.ts"

const file = (version: number, name: string, sql: string): MigrationFile => ({
  version,
  name,
  sql,
  checksum: checksumOf(sql),
})

const first = file(1, "create_notes", "CREATE TABLE notes (id integer PRIMARY KEY, body text);")
const second = file(2, "add_author", "ALTER TABLE notes ADD COLUMN author text;")
const third = file(3, "create_tags", "CREATE TABLE tags (name text PRIMARY KEY);")

const migrationErrorOf = <A, E>(exit: Exit.Exit<A, E>): MigrationError => {
  assert(Exit.isFailure(exit), "expected the migration to fail")
  const error = Cause.findErrorOption(exit.cause)
  assert(Option.isSome(error), "expected a typed failure")
  assert(error.value instanceof MigrationError, "expected a MigrationError")
  return error.value
}

const tableExists = (name: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const rows = yield* sql<{ found: boolean }>`SELECT to_regclass(${name}) IS NOT NULL AS found`
    return rows[0]?.found === true
  })

const versions = Effect.map(Migrator.applied, (rows) => rows.map((row) => row.version))

describe("Migrator.load", () => {
  it.effect("reads every schema file in version order", () =>
    Effect.gen(function* () {
      const files = yield* Migrator.load()
      const names = (yield* Effect.promise(() => readdir(SCHEMA_DIRECTORY))).filter((name) =>
        name.endsWith(".sql"),
      )
      expect(files.length).toBe(names.length)
      expect(files[0]?.version).toBe(1)
      expect(files.map((f) => f.version)).toEqual(
        [...files.map((f) => f.version)].sort((a, b) => a - b),
      )
      for (const loaded of files) expect(loaded.checksum).toMatch(/^[0-9a-f]{64}$/)
    }),
  )
})

describe("checksumOf", () => {
  it("reads CRLF line ends as LF", () => {
    expect(checksumOf("SELECT 1;\r\nSELECT 2;\r\n")).toBe(checksumOf("SELECT 1;\nSELECT 2;\n"))
  })
})

for (const backend of BACKENDS) {
  // A fresh database per test: each test starts from an empty schema.
  layer(backend.layer(), { excludeTestServices: true, buildPerTest: true })(
    `Migrator on ${backend.name}`,
    (it) => {
      it.effect("applies the shipped schema once", () =>
        Effect.gen(function* () {
          const files = yield* Migrator.load()
          const firstRun = yield* Migrator.run()
          expect(firstRun.map((m) => m.version)).toEqual(files.map((f) => f.version))

          const secondRun = yield* Migrator.run()
          expect(secondRun).toEqual([])
          expect(yield* versions).toEqual(files.map((f) => f.version))
          expect(yield* tableExists("integration_credentials")).toBe(true)
        }),
      )

      it.effect("records version, name and checksum", () =>
        Effect.gen(function* () {
          yield* Migrator.run({ files: [first, second] })
          const sql = yield* SqlClient
          const rows = yield* sql<{
            version: number
            name: string
            checksum: string
          }>`SELECT version, name, checksum FROM schema_migrations ORDER BY version`
          expect(rows).toEqual([
            { version: 1, name: "create_notes", checksum: first.checksum },
            { version: 2, name: "add_author", checksum: second.checksum },
          ])
        }),
      )

      it.effect("applies only newly added files", () =>
        Effect.gen(function* () {
          yield* Migrator.run({ files: [first] })
          const applied = yield* Migrator.run({ files: [first, second, third] })
          expect(applied.map((m) => m.version)).toEqual([2, 3])
        }),
      )

      it.effect("rejects a changed applied file", () =>
        Effect.gen(function* () {
          yield* Migrator.run({ files: [first, second] })
          const edited = file(2, "add_author", "ALTER TABLE notes ADD COLUMN editor text;")
          const exit = yield* Effect.exit(Migrator.run({ files: [first, edited, third] }))

          const error = migrationErrorOf(exit)
          expect(error.reason).toBe("checksum_mismatch")
          expect(error.version).toBe(2)
          expect(error.message).toContain("0002_add_author")
          expect(yield* tableExists("tags")).toBe(false)
        }),
      )

      it.effect("rejects a pending file below an applied one", () =>
        Effect.gen(function* () {
          yield* Migrator.run({ files: [first, third] })
          const exit = yield* Effect.exit(Migrator.run({ files: [first, second, third] }))

          const error = migrationErrorOf(exit)
          expect(error.reason).toBe("out_of_order")
          expect(error.version).toBe(2)
        }),
      )

      it.effect("rolls back a file whose statement fails", () =>
        Effect.gen(function* () {
          const broken = file(
            2,
            "broken",
            "CREATE TABLE half (id integer);\nSELECT no_such_column FROM notes;",
          )
          const exit = yield* Effect.exit(Migrator.run({ files: [first, broken] }))

          const error = migrationErrorOf(exit)
          expect(error.reason).toBe("statement_failed")
          expect(error.message).toContain("statement 2 of 2")
          expect(error.message).toContain("no_such_column")
          expect(yield* tableExists("half")).toBe(false)
          expect(yield* versions).toEqual([1])
        }),
      )

      it.effect("applies each file once across racing runs", () =>
        Effect.gen(function* () {
          const slow = file(
            2,
            "slow",
            "SELECT pg_sleep(0.2);\nCREATE TABLE slow_done (id integer);",
          )
          const runs = yield* Effect.all(
            [
              Migrator.run({ files: [first, slow, third] }),
              Migrator.run({ files: [first, slow, third] }),
            ],
            { concurrency: 2 },
          )
          const appliedVersions = runs
            .flat()
            .map((m) => m.version)
            .sort()
          expect(appliedVersions).toEqual([1, 2, 3])
          expect(yield* versions).toEqual([1, 2, 3])
        }),
      )
    },
  )
}

describe("Migrator on two Postgres pools", () => {
  it.live("applies each file once across two instances", () =>
    Effect.gen(function* () {
      const schema = yield* temporarySchema
      const instance = () =>
        Database.layer({ url: schemaUrl(schema), dataDir: "unused", connectTimeout: "10 seconds" })
      const slow = file(2, "slow", "SELECT pg_sleep(0.2);\nCREATE TABLE slow_done (id integer);")
      const files = [first, slow, third]

      const runs = yield* Effect.all(
        [
          Migrator.run({ files }).pipe(Effect.provide(instance())),
          Migrator.run({ files }).pipe(Effect.provide(instance())),
        ],
        { concurrency: 2 },
      )
      const appliedVersions = runs
        .flat()
        .map((m) => m.version)
        .sort()
      expect(appliedVersions).toEqual([1, 2, 3])
      expect(yield* versions.pipe(Effect.provide(instance()))).toEqual([1, 2, 3])
    }),
  )
})
