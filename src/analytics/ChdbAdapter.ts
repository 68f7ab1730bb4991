/**
 * The embedded adapter: ClickHouse in this process through chDB, with its
 * data under `<dataDir>/chdb`.
 *
 * chDB 3.4 runs `queryAsync`, `queryBindAsync` and `insert` on a libuv worker
 * thread, so the event loop only pays for building the JSONEachRow payload
 * and parsing the result text. Requests on one session run one at a time: a
 * long analytical query delays the inserts queued behind it. A timed-out
 * request settles early, but the engine finishes it in the background and the
 * next request waits for that.
 *
 * chDB allows one open data directory per process, so the service must be the
 * only chDB user in the process.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Duration, Effect, type Scope } from "effect"
import {
  type ClickHouseShape,
  checkTableName,
  dedupSettings,
  parseJsonEachRow,
  type QueryParams,
  SESSION_SETTINGS,
  toJsonEachRow,
} from "./ClickHouseAdapter.ts"
import { ClickHouseError, fromServerMessage } from "./ClickHouseError.ts"

type Chdb = typeof import("chdb")
type Session = InstanceType<Chdb["Session"]>

export interface ChdbAdapterOptions {
  /** The service's data directory; the engine's files go to its `chdb` subdirectory. */
  readonly dataDir: string
  /** How long one request may take before it fails with reason `timeout`. */
  readonly requestTimeout: Duration.Input
}

/** chDB error codes for a session that cannot run anything. */
const UNAVAILABLE_CODES = new Set(["CHDB_CONNECTION", "CHDB_CLOSED", "CHDB_PLATFORM", "CHDB_ABI"])

const toError = (operation: string, cause: unknown): ClickHouseError => {
  const code = (cause as { code?: unknown } | null)?.code
  const message = cause instanceof Error ? cause.message : String(cause)
  if (code === "CHDB_TIMEOUT" || code === "CHDB_ABORT") {
    return new ClickHouseError({
      reason: "timeout",
      message: `ClickHouse ${operation} timed out in chDB`,
    })
  }
  if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) {
    return new ClickHouseError({
      reason: "unavailable",
      message: `chDB is unavailable for ${operation}: ${message}`,
    })
  }
  return fromServerMessage(operation, message)
}

const loadChdb = Effect.tryPromise({
  try: (): Promise<Chdb> => import("chdb"),
  catch: () =>
    new ClickHouseError({
      reason: "unavailable",
      message:
        "The embedded ClickHouse (npm package chdb) is not installed. Install the optional " +
        "dependencies (bun install without --omit optional) or set CLICKHOUSE_URL to a server.",
    }),
})

const openSession = (
  chdb: Chdb,
  path: string,
): Effect.Effect<Session, ClickHouseError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        mkdirSync(path, { recursive: true })
        return new chdb.Session(path, {
          connectionArgs: Object.entries(SESSION_SETTINGS).map(
            ([name, value]) => `--${name}=${value}`,
          ),
        })
      },
      catch: (cause) => toError("open", cause),
    }),
    // close() defers while a request still runs on a worker thread;
    // drainPending waits for it so the directory can be opened again.
    (session) =>
      Effect.promise(() => {
        session.close()
        return chdb.drainPending()
      }),
  )

/** Opens the session and builds the adapter; the session closes with the scope. */
export const make = (
  options: ChdbAdapterOptions,
): Effect.Effect<ClickHouseShape, ClickHouseError, Scope.Scope> =>
  Effect.gen(function* () {
    const chdb = yield* loadChdb
    const path = join(options.dataDir, "chdb")
    const session = yield* openSession(chdb, path)
    const timeout = Duration.toMillis(options.requestTimeout)

    const run = <A>(operation: string, request: (signal: AbortSignal) => Promise<A>) =>
      Effect.tryPromise({ try: request, catch: (cause) => toError(operation, cause) })

    const query = <A>(sql: string, params?: QueryParams) =>
      run("query", (signal) => {
        const options = { format: "JSONEachRow", signal, timeout }
        return params === undefined || Object.keys(params).length === 0
          ? session.queryAsync(sql, options)
          : session.queryBindAsync(sql, params, options)
      }).pipe(Effect.map((result) => parseJsonEachRow<A>(result.text())))

    const [versionRow] = yield* query<{ version: string }>("SELECT version() AS version")
    const engineVersion = versionRow?.version ?? "unknown"

    const clickhouse: ClickHouseShape = {
      command: (sql) =>
        run("command", (signal) => session.queryAsync(sql, { signal, timeout })).pipe(
          Effect.asVoid,
        ),
      insert: (table, rows, insertOptions) =>
        rows.length === 0
          ? Effect.void
          : checkTableName(table).pipe(
              Effect.andThen(
                run("insert", (signal) =>
                  session.insert({
                    table,
                    values: toJsonEachRow(rows),
                    format: "JSONEachRow",
                    ...(insertOptions?.dedupToken === undefined
                      ? {}
                      : { settings: dedupSettings(insertOptions.dedupToken) }),
                    signal,
                    timeout,
                  }),
                ),
              ),
              Effect.asVoid,
            ),
      query,
      ping: query("SELECT 1 AS ok").pipe(Effect.asVoid),
      describe: () =>
        `chDB ${chdb.version().chdb} (embedded ClickHouse ${engineVersion}) at ${path}`,
    }
    return clickhouse
  })
