import { existsSync } from "node:fs"
import { createConnection } from "node:net"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Option, Redacted, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { Database, DatabaseUnavailable, describeDatabase } from "../../../src/storage/Database.ts"
import { BACKENDS, temporaryDirectory } from "./backends.ts"

/** Resolves true when a TCP connection to the port is accepted. */
const portAccepts = (port: number) =>
  Effect.promise(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: "127.0.0.1", port })
        socket.once("connect", () => {
          socket.destroy()
          resolve(true)
        })
        socket.once("error", () => resolve(false))
      }),
  )

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert(Exit.isFailure(exit), "expected a failure")
  const error = Cause.findErrorOption(exit.cause)
  assert(Option.isSome(error), "expected a typed failure")
  return error.value
}

describe("describeDatabase", () => {
  it("names host, port and database of a server URL", () => {
    const url = Redacted.make("postgres://app:s3cret-pw@db.internal:6543/oauth?sslmode=require")
    const description = describeDatabase({ url, dataDir: "./data" })
    expect(description).toBe("postgres server db.internal:6543/oauth")
  })

  it("defaults the port to 5432", () => {
    const url = Redacted.make("postgres://app@127.0.0.1/test")
    expect(describeDatabase({ url, dataDir: "./data" })).toBe("postgres server 127.0.0.1:5432/test")
  })

  it("names the PGlite directory in embedded mode", () => {
    expect(describeDatabase({ url: undefined, dataDir: "./data" })).toBe(
      "embedded PGlite at ./data/pglite",
    )
  })
})

describe("Database.layer with an unreachable server", () => {
  it.live("times out naming DATABASE_URL, not the password", () =>
    Effect.gen(function* () {
      const url = Redacted.make("postgres://postgres:hunter2-secret@127.0.0.1:1/test")
      const build = Layer.build(
        Database.layer({ url, dataDir: "unused", connectTimeout: "2 seconds" }),
      )
      const exit = yield* Effect.exit(Effect.scoped(build))

      const error = failureOf(exit)
      assert(error instanceof DatabaseUnavailable)
      expect(error.reason).toBe("timed_out")
      expect(error.code).toBe("database_unavailable")
      expect(error.message).toContain("DATABASE_URL")
      expect(error.message).toContain("127.0.0.1:1/test")
      expect(error.message).toContain("ECONNREFUSED")
      expect(error.message).not.toContain("hunter2")
      expect(JSON.stringify(error)).not.toContain("hunter2")
    }),
  )

  it.live("fails at once on a rejected role", () =>
    Effect.gen(function* () {
      const url = Redacted.make("postgres://no_such_role_for_tests@127.0.0.1:5432/test")
      const build = Layer.build(
        Database.layer({ url, dataDir: "unused", connectTimeout: "30 seconds" }),
      )
      const exit = yield* Effect.exit(Effect.scoped(build))

      const error = failureOf(exit)
      assert(error instanceof DatabaseUnavailable)
      expect(error.reason).toBe("rejected")
      expect(error.message).toContain("no_such_role_for_tests")
    }),
  )
})

for (const backend of BACKENDS) {
  layer(backend.layer(), { excludeTestServices: true })(`Database on ${backend.name}`, (it) => {
    it.effect("runs queries", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient
        const rows = yield* sql<{ value: number }>`SELECT 1 + 1 AS value`
        expect(rows[0]?.value).toBe(2)
      }),
    )

    it.effect("commits and rolls back transactions", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE tx_check (id integer PRIMARY KEY)`
        yield* sql.withTransaction(sql`INSERT INTO tx_check VALUES (1)`)
        const failed = sql.withTransaction(
          Effect.andThen(sql`INSERT INTO tx_check VALUES (2)`, Effect.fail("abort")),
        )
        yield* Effect.exit(failed)

        const rows = yield* sql<{ id: number }>`SELECT id FROM tx_check ORDER BY id`
        expect(rows.map((row) => row.id)).toEqual([1])
      }),
    )

    it.effect("serialises concurrent read-modify-write transactions", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE tx_counter (id integer PRIMARY KEY, n integer NOT NULL)`
        yield* sql`INSERT INTO tx_counter VALUES (1, 0)`

        const increment = sql.withTransaction(
          Effect.gen(function* () {
            const [row] = yield* sql<{
              n: number
            }>`SELECT n FROM tx_counter WHERE id = 1 FOR UPDATE`
            yield* sql`UPDATE tx_counter SET n = ${row!.n + 1} WHERE id = 1`
          }),
        )
        yield* Effect.all(
          Array.from({ length: 40 }, () => increment),
          { concurrency: 10 },
        )

        const [row] = yield* sql<{ n: number }>`SELECT n FROM tx_counter WHERE id = 1`
        expect(row?.n).toBe(40)
      }),
    )

    it.effect("keeps concurrent statement results apart", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient
        const results = yield* Effect.all(
          Array.from(
            { length: 200 },
            (_, i) => sql<{ i: number; s: string }>`SELECT ${i}::int AS i, ${`v${i}`}::text AS s`,
          ),
          { concurrency: 50 },
        )
        results.forEach((rows, i) => {
          expect(rows[0]).toEqual({ i, s: `v${i}` })
        })
      }),
    )
  })
}

describe("Database.layer on embedded PGlite", () => {
  it.live("stops serving and keeps data on close", () =>
    Effect.gen(function* () {
      const dataDir = yield* temporaryDirectory
      const options = { url: undefined, dataDir, connectTimeout: "10 seconds" } as const

      const scope = yield* Scope.make()
      const services = yield* Layer.buildWithScope(Database.layer(options), scope)
      const client = Context.get(services, PgClient.PgClient)
      const port = client.config.port!
      const sql = Context.get(services, SqlClient)
      yield* sql`CREATE TABLE kept (id integer)`
      yield* sql`INSERT INTO kept VALUES (7)`
      expect(yield* portAccepts(port)).toBe(true)
      expect(existsSync(join(dataDir, "pglite.lock"))).toBe(true)

      yield* Scope.close(scope, Exit.void)
      expect(yield* portAccepts(port)).toBe(false)
      expect(existsSync(join(dataDir, "pglite.lock"))).toBe(false)

      const rows = yield* Effect.gen(function* () {
        const sql = yield* SqlClient
        return yield* sql<{ id: number }>`SELECT id FROM kept`
      }).pipe(Effect.provide(Database.layer(options)))
      expect(rows).toEqual([{ id: 7 }])
    }),
  )

  it.live("rejects a second open of one directory", () =>
    Effect.gen(function* () {
      const dataDir = yield* temporaryDirectory
      const options = { url: undefined, dataDir, connectTimeout: "10 seconds" } as const
      yield* Layer.build(Database.layer(options))

      const exit = yield* Effect.exit(Effect.scoped(Layer.build(Database.layer(options))))
      const error = failureOf(exit)
      assert(error instanceof DatabaseUnavailable)
      expect(error.reason).toBe("embedded_failed")
      expect(error.message).toContain("in use by process")
    }),
  )
})
