/**
 * The two databases every Postgres test runs on: a Postgres server, in a
 * schema of its own that is dropped afterwards, and an embedded PGlite in a
 * temporary directory.
 */
import { randomBytes } from "node:crypto"
import { cp, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { PgClient } from "@effect/sql-pg"
import { PgClient as Pg } from "@effect/sql-pg"
import { afterAll } from "@effect/vitest"
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import type { SqlClient } from "effect/sql/SqlClient"
import { Database, type DatabaseUnavailable } from "../../../src/storage/Database.ts"

export const SERVER_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

export type BackendName = "postgres" | "pglite"

export type DatabaseLayer = Layer.Layer<PgClient.PgClient | SqlClient, DatabaseUnavailable>

/** Runs `f` on a short-lived single connection to the server's default schema. */
const withAdmin = <A, E>(f: (sql: SqlClient) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.flatMap(Pg.make({ url: Redacted.make(SERVER_URL), maxConnections: 1 }), f),
  ).pipe(Effect.provide(Reactivity.layer))

/** Creates a uniquely named schema and drops it, with everything in it, when the scope closes. */
export const temporarySchema = Effect.acquireRelease(
  Effect.gen(function* () {
    const schema = `test_${randomBytes(6).toString("hex")}`
    yield* withAdmin((sql) => sql`CREATE SCHEMA ${sql(schema)}`)
    return schema
  }).pipe(Effect.orDie),
  (schema) => withAdmin((sql) => sql`DROP SCHEMA ${sql(schema)} CASCADE`).pipe(Effect.orDie),
)

/** The server URL with `search_path` set to `schema` for every connection. */
export const schemaUrl = (schema: string): Redacted.Redacted<string> =>
  Redacted.make(`${SERVER_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`)

/** Creates a temporary directory and deletes it when the scope closes. */
export const temporaryDirectory = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "pglite-test-"))),
  (directory) => Effect.promise(() => rm(directory, { recursive: true, force: true })),
)

/** A Postgres server layer in a fresh schema that is dropped when the layer is released. */
export const serverLayer = (): DatabaseLayer =>
  Layer.unwrap(
    Effect.map(temporarySchema, (schema) =>
      Database.layer({ url: schemaUrl(schema), dataDir: "unused", connectTimeout: "10 seconds" }),
    ),
  )

let template: Promise<string> | undefined

/**
 * Returns a PGlite data directory initialised once per test process. initdb
 * takes seconds, while copying its 40 MB output takes milliseconds.
 */
const pgliteTemplate = (): Promise<string> => {
  template ??= (async () => {
    const directory = await mkdtemp(join(tmpdir(), "pglite-template-"))
    const db = await PGlite.create({ dataDir: join(directory, "pglite") })
    await db.close()
    return directory
  })()
  return template
}

// Registered while the importing test file is collected, so it runs after
// that file's tests.
afterAll(async () => {
  if (template !== undefined) await rm(await template, { recursive: true, force: true })
})

/**
 * An embedded PGlite layer on a copy of an initialised, empty data directory,
 * deleted when the layer is released.
 */
export const pgliteLayer = (): DatabaseLayer =>
  Layer.unwrap(
    Effect.gen(function* () {
      const dataDir = yield* temporaryDirectory
      const source = yield* Effect.promise(pgliteTemplate)
      yield* Effect.promise(() =>
        cp(join(source, "pglite"), join(dataDir, "pglite"), { recursive: true }),
      )
      return Database.layer({ url: undefined, dataDir, connectTimeout: "10 seconds" })
    }),
  )

export const BACKENDS: ReadonlyArray<{
  readonly name: BackendName
  readonly layer: () => DatabaseLayer
}> = [
  { name: "postgres", layer: serverLayer },
  { name: "pglite", layer: pgliteLayer },
]
