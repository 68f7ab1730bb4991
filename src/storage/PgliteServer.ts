/**
 * The embedded Postgres: PGlite (Postgres 18 compiled to WebAssembly) serving
 * its single backend session on a loopback TCP port through pglite-socket, so
 * the same `PgClient` code runs against it and against a Postgres server.
 *
 * Behaviour of pglite-socket 0.2.17, read from its source and checked with
 * `@effect/sql-pg` 4.1.5:
 *
 * - It accepts `maxConnections` clients (default 1). It writes the text "Too
 *   many connections" to any further client and closes that socket.
 * - Every client shares the one PGlite session. Messages from all clients go
 *   through one queue one protocol message at a time, and only inside an
 *   explicit `BEGIN ... COMMIT` block does the queue serve just the client
 *   that opened it. Outside a block the `Parse`/`Bind`/`Execute`/`Sync`
 *   messages of two clients interleave: with four pooled connections, mixed
 *   queries and transactions failed with `portal "" does not exist` and lost
 *   updates. Session settings (`SET`) and prepared statements are shared too.
 * - A `CancelRequest` is read and dropped, because PGlite has no backend
 *   process to signal.
 *
 * So the server accepts one client and the pool keeps exactly one connection
 * (see `Database.ts`).
 */
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Data, Effect, type Scope } from "effect"
import { acquirePgliteLock } from "./PgliteLock.ts"

/** The only client pglite-socket may serve without interleaving sessions. */
export const PGLITE_MAX_CONNECTIONS = 1

export const PGLITE_USER = "postgres"
export const PGLITE_DATABASE = "postgres"

export class PgliteStartFailed extends Data.TaggedError("PgliteStartFailed")<{
  readonly detail: string
}> {}

export interface PgliteEndpoint {
  readonly host: string
  readonly port: number
}

/**
 * Returns the PGlite data directory under the service's data directory,
 * keeping the data directory as written (`./data` gives `./data/pglite`).
 */
export const pgliteDirectory = (dataDir: string): string => `${dataDir.replace(/\/+$/, "")}/pglite`

const errorText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause)

const lockDirectory = (directory: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        mkdirSync(dirname(directory), { recursive: true })
        return acquirePgliteLock(`${directory}.lock`)
      },
      catch: (cause) =>
        new PgliteStartFailed({ detail: `cannot create ${directory}.lock: ${errorText(cause)}` }),
    }).pipe(
      Effect.flatMap((lock) => {
        if (lock._tag === "Acquired") return Effect.succeed(lock.release)
        const owner = lock.ownerPid === undefined ? "another process" : `process ${lock.ownerPid}`
        const detail =
          `the data directory is in use by ${owner} (lock file ${directory}.lock). ` +
          "Stop that process, or delete the lock file if no process uses the directory"
        return Effect.fail(new PgliteStartFailed({ detail }))
      }),
    ),
    (release) => Effect.sync(release),
  )

const openPglite = (directory: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => PGlite.create({ dataDir: directory }),
      catch: (cause) => new PgliteStartFailed({ detail: errorText(cause) }),
    }),
    (db) => Effect.promise(() => db.close()),
  )

const waitForClientsToLeave = (server: PGLiteSocketServer) =>
  Effect.gen(function* () {
    // The pool closes its socket before this finalizer runs, and the server
    // notices on a later tick. Waiting lets its own ROLLBACK of an open
    // transaction reach PGlite before `close`. The wait is bounded so a stuck
    // client cannot hold up shutdown.
    for (let tick = 0; tick < 100 && server.getStats().activeConnections > 0; tick++) {
      yield* Effect.sleep(10)
    }
  })

const serveOnLoopback = (db: PGlite) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        // Port 0 lets the operating system pick a free port at every start.
        const server = new PGLiteSocketServer({
          db,
          host: "127.0.0.1",
          port: 0,
          maxConnections: PGLITE_MAX_CONNECTIONS,
        })
        await server.start()
        return server
      },
      catch: (cause) =>
        new PgliteStartFailed({ detail: `cannot listen on 127.0.0.1: ${errorText(cause)}` }),
    }),
    (server) =>
      Effect.andThen(
        waitForClientsToLeave(server),
        Effect.promise(() => server.stop()),
      ),
  )

/**
 * Starts PGlite on `<dataDir>/pglite` and serves it on a loopback port. Closing
 * the scope stops the socket server, closes PGlite and releases the directory
 * lock, in that order. The first start runs initdb, which takes a few seconds.
 */
export const startPgliteServer = (
  dataDir: string,
): Effect.Effect<PgliteEndpoint, PgliteStartFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const directory = pgliteDirectory(dataDir)
    yield* lockDirectory(directory)
    const db = yield* openPglite(directory)
    const server = yield* serveOnLoopback(db)

    const address = server.getServerConn()
    const port = Number(address.slice(address.lastIndexOf(":") + 1))
    return { host: "127.0.0.1", port }
  })
