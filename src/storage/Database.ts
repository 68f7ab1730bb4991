/**
 * The Postgres connection of the service: a `PgClient` pool on `DATABASE_URL`,
 * or, when that is unset, on an embedded PGlite served on a loopback port.
 * Both provide `SqlClient` and `PgClient`, so storage code does not know which
 * one it talks to.
 */
import { PgClient } from "@effect/sql-pg"
import { Clock, Data, Duration, Effect, type Layer, Redacted, Result } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import {
  PGLITE_DATABASE,
  PGLITE_MAX_CONNECTIONS,
  PGLITE_USER,
  pgliteDirectory,
  startPgliteServer,
} from "./PgliteServer.ts"

export interface DatabaseOptions {
  /** `DATABASE_URL`; undefined selects the embedded PGlite. */
  readonly url: Redacted.Redacted<string> | undefined
  /** The service's data directory; PGlite keeps its files in `<dataDir>/pglite`. */
  readonly dataDir: string
  /** How long start-up retries a Postgres server that does not accept connections yet. */
  readonly connectTimeout: Duration.Input
  /** Maximum pooled connections to a Postgres server, 10 by default. Ignored for PGlite. */
  readonly poolSize?: number
}

export class DatabaseUnavailable extends Data.TaggedError("DatabaseUnavailable")<{
  readonly reason: "invalid_url" | "timed_out" | "rejected" | "embedded_failed"
  /** The `describeDatabase` text, which never contains the password. */
  readonly database: string
  /** The last connection error, with the password removed. */
  readonly detail: string
  readonly connectTimeout: Duration.Duration
}> {
  readonly code = "database_unavailable"

  override get message(): string {
    return MESSAGES[this.reason](this)
  }
}

const MESSAGES: Record<DatabaseUnavailable["reason"], (error: DatabaseUnavailable) => string> = {
  invalid_url: (error) => `DATABASE_URL (${error.database}) is invalid: ${error.detail}.`,
  timed_out: (error) =>
    `Cannot connect to DATABASE_URL (${error.database}) within ` +
    `${Duration.format(error.connectTimeout)}: ${error.detail}. Check that the server is ` +
    "running and reachable, or raise STORE_CONNECT_TIMEOUT.",
  rejected: (error) =>
    `DATABASE_URL (${error.database}) rejected the connection: ${error.detail}. ` +
    "Check the user, password and database name in DATABASE_URL.",
  embedded_failed: (error) => `Cannot start the ${error.database}: ${error.detail}.`,
}

const DEFAULT_POOL_SIZE = 10

/** Upper bound of one connection attempt, so a dropped SYN still leaves time to retry. */
const ATTEMPT_TIMEOUT = Duration.seconds(5)

const FIRST_RETRY_DELAY_MS = 100
const MAX_RETRY_DELAY_MS = 2_000

interface ServerAddress {
  readonly host: string
  readonly port: string
  readonly database: string
  readonly password: string
}

const parseServerUrl = (url: Redacted.Redacted<string>): ServerAddress | undefined => {
  try {
    const parsed = new URL(Redacted.value(url))
    const user = decodeURIComponent(parsed.username)
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""))
    return {
      host: parsed.hostname,
      port: parsed.port === "" ? "5432" : parsed.port,
      // Without a database name the server uses the user name.
      database: database === "" ? user || "(default database)" : database,
      password: decodeURIComponent(parsed.password),
    }
  } catch {
    return undefined
  }
}

/**
 * Describes the database for the start-up log: `postgres server
 * 127.0.0.1:5432/test` or `embedded PGlite at ./data/pglite`. It shows the host,
 * port and database of a URL only, never the user or password.
 */
export const describeDatabase = (options: {
  readonly url: Redacted.Redacted<string> | undefined
  readonly dataDir: string
}): string => {
  if (options.url === undefined) return `embedded PGlite at ${pgliteDirectory(options.dataDir)}`
  const address = parseServerUrl(options.url)
  if (address === undefined) return "postgres server at an unparsable URL"
  return `postgres server ${address.host}:${address.port}/${address.database}`
}

/** Returns the message of the error behind a failed connection attempt. */
const connectionErrorText = (error: SqlError): string => {
  const cause = error.reason.cause
  if (cause instanceof Error && cause.message !== "") return cause.message
  return error.reason.message ?? error.message
}

/** Removes the password from a message, in case a driver error ever echoes it. */
const withoutPassword = (text: string, password: string): string =>
  password.length < 4 ? text : text.split(password).join("***")

/**
 * Runs `SELECT 1` until it succeeds or `connectTimeout` runs out. Rejected
 * credentials end the wait at once. Every other failure is retried with
 * exponential backoff, because a database container that is still starting
 * refuses connections, reports 57P03, or does not resolve in DNS yet.
 */
const awaitServer = (
  client: SqlClient,
  options: {
    readonly database: string
    readonly password: string
    readonly timeout: Duration.Duration
  },
) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(options.timeout)
    const unavailable = (reason: "timed_out" | "rejected", error: SqlError) =>
      new DatabaseUnavailable({
        reason,
        database: options.database,
        detail: withoutPassword(connectionErrorText(error), options.password),
        connectTimeout: options.timeout,
      })

    let delay = FIRST_RETRY_DELAY_MS
    while (true) {
      const attempt = yield* Effect.result(client`SELECT 1`)
      if (Result.isSuccess(attempt)) return

      const error = attempt.failure
      const tag = error.reason._tag
      if (tag === "AuthenticationError" || tag === "AuthorizationError") {
        return yield* unavailable("rejected", error)
      }

      const remaining = deadline - (yield* Clock.currentTimeMillis)
      if (remaining <= 0) return yield* unavailable("timed_out", error)
      yield* Effect.sleep(Math.min(delay, remaining))
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)
    }
  })

const connectServer = (url: Redacted.Redacted<string>, options: DatabaseOptions) =>
  Effect.gen(function* () {
    const timeout = Duration.fromInputUnsafe(options.connectTimeout)
    const database = describeDatabase(options)
    const password = parseServerUrl(url)?.password ?? ""

    // Building the pool opens no connection (sql-pg 4.1.5 connects on first
    // use), so it fails only on settings that sql-pg cannot resolve.
    const client = yield* PgClient.make({
      url,
      maxConnections: options.poolSize ?? DEFAULT_POOL_SIZE,
      connectTimeout: Duration.min(timeout, ATTEMPT_TIMEOUT),
    }).pipe(
      Effect.mapError(
        (error) =>
          new DatabaseUnavailable({
            reason: "invalid_url",
            database,
            detail: withoutPassword(connectionErrorText(error), password),
            connectTimeout: timeout,
          }),
      ),
    )
    yield* awaitServer(client, { database, password, timeout })
    return client
  })

const connectEmbedded = (options: DatabaseOptions) =>
  Effect.gen(function* () {
    const endpoint = yield* startPgliteServer(options.dataDir)

    // One connection, kept for the life of the pool (`minConnections` 1 and
    // no idle timeout): pglite-socket serves a single session, see
    // PgliteServer.ts. Every statement and transaction therefore runs one
    // after another. A transaction keeps the connection until it ends, so
    // code inside `withTransaction` must not wait on a fiber that runs SQL
    // outside that transaction. `PgClient.listen` reserves a connection of
    // its own, so in embedded mode it would take the only one for good.
    const client = yield* PgClient.make({
      host: endpoint.host,
      port: endpoint.port,
      username: PGLITE_USER,
      database: PGLITE_DATABASE,
      maxConnections: PGLITE_MAX_CONNECTIONS,
      minConnections: PGLITE_MAX_CONNECTIONS,
      idleTimeout: Duration.infinity,
    })
    yield* client`SELECT 1`
    return client
  }).pipe(
    Effect.mapError(
      (error) =>
        new DatabaseUnavailable({
          reason: "embedded_failed",
          database: describeDatabase(options),
          detail: error._tag === "SqlError" ? connectionErrorText(error) : error.detail,
          connectTimeout: Duration.fromInputUnsafe(options.connectTimeout),
        }),
    ),
  )

/**
 * Provides `SqlClient` and `PgClient` on a Postgres server when `url` is set,
 * or on an embedded PGlite otherwise. The layer is ready once `SELECT 1` has
 * succeeded. Closing its scope closes the pool and then stops PGlite.
 */
const layer = (
  options: DatabaseOptions,
): Layer.Layer<PgClient.PgClient | SqlClient, DatabaseUnavailable> =>
  PgClient.layerFrom(
    options.url === undefined ? connectEmbedded(options) : connectServer(options.url, options),
  )

export const Database = { layer } as const
