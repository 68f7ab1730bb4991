/** The one error type of the `ClickHouse` service, shared by both adapters. */
import { Schema } from "effect"

export class ClickHouseError extends Schema.TaggedError<ClickHouseError>()("ClickHouseError", {
  /**
   * `unavailable`: no connection, or the engine could not be opened; the
   * request did not run. `timeout`: no response in time; an insert may or may
   * not have been applied. `query_failed`: ClickHouse ran the request and
   * returned an exception.
   */
  reason: Schema.Literals(["unavailable", "timeout", "query_failed"]),
  /** The ClickHouse exception code, such as 60 for UNKNOWN_TABLE, when the server sent one. */
  serverCode: Schema.optionalKey(Schema.Number),
  message: Schema.String,
}) {
  readonly code = "clickhouse_error"
}

/** ClickHouse exception codes that mean the server is overloaded or going away. */
const UNAVAILABLE_CODES = new Set([
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  242, // TABLE_IS_READ_ONLY
])

/** ClickHouse exception codes for a limit on execution time. */
const TIMEOUT_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
])

/** Maximum length of the server message kept in an error; the rest is usually the echoed query. */
const MAX_DETAIL_LENGTH = 500

/**
 * Reads the exception code from a ClickHouse message, in both the current
 * form (`Code: 60. DB::Exception: ...`) and the form of releases before 20.x
 * (`Code: 60, e.displayText() = DB::Exception: ...`).
 */
export const parseServerCode = (message: string): number | undefined => {
  const match = /Code:\s*(\d+)[.,]/.exec(message)
  return match ? Number(match[1]) : undefined
}

/** Keeps the first line of a server message, without the stack trace or echoed query. */
export const serverDetail = (message: string): string => {
  const firstLine = message.trim().split("\n")[0] ?? ""
  const withoutPrefix = firstLine
    .replace(/^Code:\s*\d+[.,]\s*/, "")
    .replace(/^e\.displayText\(\) = /, "")
    .replace(/, e\.what\(\) = DB::Exception$/, "")
  return withoutPrefix.length > MAX_DETAIL_LENGTH
    ? `${withoutPrefix.slice(0, MAX_DETAIL_LENGTH)}...`
    : withoutPrefix
}

/** Builds the error for a ClickHouse exception message, classified by its code. */
export const fromServerMessage = (operation: string, message: string): ClickHouseError => {
  const serverCode = parseServerCode(message)
  const reason =
    serverCode === undefined
      ? "query_failed"
      : TIMEOUT_CODES.has(serverCode)
        ? "timeout"
        : UNAVAILABLE_CODES.has(serverCode)
          ? "unavailable"
          : "query_failed"
  const codeText = serverCode === undefined ? "" : ` with code ${serverCode}`
  return new ClickHouseError({
    reason,
    ...(serverCode === undefined ? {} : { serverCode }),
    message: `ClickHouse ${operation} failed${codeText}: ${serverDetail(message)}`,
  })
}
