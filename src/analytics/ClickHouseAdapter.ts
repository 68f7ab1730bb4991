/**
 * The operations that each ClickHouse adapter (chDB embedded, HTTP server)
 * implements, and the request details both must send the same way.
 */
import { Effect } from "effect"
import { ClickHouseError } from "./ClickHouseError.ts"
import type { Row } from "./Tables.ts"

export type QueryParamValue = string | number | boolean | ReadonlyArray<string | number>

/** Values for `{name:Type}` placeholders, bound by ClickHouse, never spliced into the SQL text. */
export type QueryParams = Readonly<Record<string, QueryParamValue>>

export interface InsertOptions {
  /**
   * Sent as `insert_deduplication_token`. ClickHouse drops a later insert
   * with the same token into the same table, and the blocks it would have
   * pushed into materialized views, while the token is within the table's
   * `non_replicated_deduplication_window`.
   */
  readonly dedupToken?: string
}

export interface ClickHouseShape {
  /** Runs a statement that returns no rows: DDL, `ALTER`, `INSERT ... SELECT`. */
  readonly command: (sql: string) => Effect.Effect<void, ClickHouseError>
  /** Inserts rows in one request as `JSONEachRow`; an empty list sends nothing. */
  readonly insert: (
    table: string,
    rows: ReadonlyArray<Row>,
    options?: InsertOptions,
  ) => Effect.Effect<void, ClickHouseError>
  /**
   * Runs a `SELECT` and returns its rows as parsed `JSONEachRow` objects,
   * with 64-bit integers as JSON numbers. The rows are not validated against
   * `A`; decode them with a Schema where the shape matters.
   */
  readonly query: <A = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
  ) => Effect.Effect<ReadonlyArray<A>, ClickHouseError>
  /** Runs a trivial query, for readiness checks. */
  readonly ping: Effect.Effect<void, ClickHouseError>
  /** Names the engine, its version and location, without credentials, for the start-up log. */
  readonly describe: () => string
}

/** Settings sent with every insert that carries a deduplication token. */
export const dedupSettings = (token: string) => ({
  insert_deduplication_token: token,
  insert_deduplicate: 1 as const,
  // An asynchronous insert may share a block with other requests, so the
  // token would no longer name one batch. chDB 3.4 (ClickHouse 26.7) has
  // async_insert on by default; the writer batches rows itself.
  async_insert: 0 as const,
  deduplicate_blocks_in_dependent_materialized_views: 1 as const,
})

/** Settings both adapters apply to every request. */
export const SESSION_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
} as const

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

/** Checks that a table name is a plain identifier, since it is written into the `INSERT`. */
export const checkTableName = (table: string): Effect.Effect<void, ClickHouseError> =>
  TABLE_NAME.test(table)
    ? Effect.void
    : Effect.fail(
        new ClickHouseError({
          reason: "query_failed",
          message: `Insert rejected: table name "${table.slice(0, 100)}" is not an identifier`,
        }),
      )

/** Serializes rows as `JSONEachRow`: one JSON object per line. */
export const toJsonEachRow = (rows: ReadonlyArray<Row>): string => {
  let text = ""
  for (const row of rows) text += `${JSON.stringify(row)}\n`
  return text
}

/** Parses a `JSONEachRow` body. */
export const parseJsonEachRow = <A>(text: string): ReadonlyArray<A> => {
  const rows: Array<A> = []
  for (const line of text.split("\n")) {
    if (line.length > 0) rows.push(JSON.parse(line) as A)
  }
  return rows
}
