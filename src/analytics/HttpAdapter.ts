/**
 * The server adapter: a ClickHouse server over HTTP through
 * `@clickhouse/client`. The URL may carry the user, password and database,
 * as in `https://user:password@host:8443/analytics`. It stays `Redacted`
 * here, and no error or `describe()` text contains the password.
 */
import { ClickHouseLogLevel, createClient } from "@clickhouse/client"
import { Duration, Effect, Redacted, type Scope } from "effect"
import {
  type ClickHouseShape,
  checkTableName,
  dedupSettings,
  SESSION_SETTINGS,
} from "./ClickHouseAdapter.ts"
import { ClickHouseError, fromServerMessage } from "./ClickHouseError.ts"

export interface HttpAdapterOptions {
  readonly url: Redacted.Redacted<string>
  /** How long one HTTP request may take before it fails with reason `timeout`. */
  readonly requestTimeout: Duration.Input
}

/** Socket error codes for a server that cannot be reached. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ConnectionRefused",
  "ConnectionClosed",
])

/** Replaces each non-empty secret in `text` with `***`. */
const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce(
    (result, secret) => (secret === "" ? result : result.replaceAll(secret, "***")),
    text,
  )

const parseUrl = (url: Redacted.Redacted<string>): Effect.Effect<URL, ClickHouseError> =>
  Effect.try({
    try: () => {
      const parsed = new URL(Redacted.value(url))
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme")
      return parsed
    },
    catch: () =>
      new ClickHouseError({
        reason: "unavailable",
        message:
          "The ClickHouse URL is invalid: expected http(s)://user:password@host:port/database",
      }),
  })

/**
 * Connects a client, reads the server version, and builds the adapter; the
 * client closes with the scope. Fails with reason `unavailable` when the
 * server cannot be reached.
 */
export const make = (
  options: HttpAdapterOptions,
): Effect.Effect<ClickHouseShape, ClickHouseError, Scope.Scope> =>
  Effect.gen(function* () {
    const url = yield* parseUrl(options.url)
    // The client sends the password in a header, so no message should
    // contain it; replacing it anyway keeps an unexpected echo out of logs.
    const secrets = [url.password, decodeURIComponent(url.password)]
    const location = `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`

    const toError = (operation: string, cause: unknown): ClickHouseError => {
      const code = (cause as { code?: unknown } | null)?.code
      const message = scrub(cause instanceof Error ? cause.message : String(cause), secrets)
      if (message === "Timeout error." || (cause as Error | null)?.name === "AbortError") {
        return new ClickHouseError({
          reason: "timeout",
          message: `ClickHouse ${operation} at ${location} timed out`,
        })
      }
      if (
        (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) ||
        message.includes("socket hang up")
      ) {
        return new ClickHouseError({
          reason: "unavailable",
          message: `ClickHouse at ${location} is unreachable for ${operation}: ${message}`,
        })
      }
      return fromServerMessage(operation, message)
    }

    const run = <A>(operation: string, request: (signal: AbortSignal) => Promise<A>) =>
      Effect.tryPromise({ try: request, catch: (cause) => toError(operation, cause) })

    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        createClient({
          url: Redacted.value(options.url),
          request_timeout: Duration.toMillis(options.requestTimeout),
          application: "oauth-webhook-service",
          clickhouse_settings: SESSION_SETTINGS,
          // Errors reach the caller as ClickHouseError; the client's own
          // console logger would print each one a second time.
          log: { level: ClickHouseLogLevel.OFF },
        }),
      ),
      (client) => Effect.promise(() => client.close()),
    )

    const query = <A>(sql: string, params?: Readonly<Record<string, unknown>>) =>
      run("query", async (signal) => {
        const result = await client.query({
          query: sql,
          format: "JSONEachRow",
          abort_signal: signal,
          ...(params === undefined ? {} : { query_params: { ...params } }),
        })
        return (await result.json<A>()) as ReadonlyArray<A>
      })

    const [versionRow] = yield* query<{ version: string }>("SELECT version() AS version")
    const serverVersion = versionRow?.version ?? "unknown"

    const clickhouse: ClickHouseShape = {
      command: (sql) =>
        run("command", (signal) => client.command({ query: sql, abort_signal: signal })).pipe(
          Effect.asVoid,
        ),
      insert: (table, rows, insertOptions) =>
        rows.length === 0
          ? Effect.void
          : checkTableName(table).pipe(
              Effect.andThen(
                run("insert", (signal) =>
                  client.insert({
                    table,
                    values: rows as Array<Record<string, unknown>>,
                    format: "JSONEachRow",
                    abort_signal: signal,
                    ...(insertOptions?.dedupToken === undefined
                      ? {}
                      : { clickhouse_settings: dedupSettings(insertOptions.dedupToken) }),
                  }),
                ),
              ),
              Effect.asVoid,
            ),
      query,
      ping: run("ping", (signal) => client.ping({ select: true, abort_signal: signal })).pipe(
        Effect.flatMap((result) =>
          result.success ? Effect.void : Effect.fail(toError("ping", result.error)),
        ),
      ),
      describe: () => `ClickHouse ${serverVersion} at ${location} over HTTP`,
    }
    return clickhouse
  })
