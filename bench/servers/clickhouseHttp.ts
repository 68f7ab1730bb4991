/**
 * ClickHouse in a process of its own, for the benchmarks: chDB behind the
 * part of the ClickHouse HTTP interface that `@clickhouse/client` uses for
 * the service's queries, commands and inserts. With it the service runs as
 * it would against a ClickHouse server (`CLICKHOUSE_URL`), so its CPU and
 * memory figures leave out the engine, which is measured on its own.
 *
 * It serves `GET /ping` and queries in `GET /?query=`. `POST /` takes the
 * SQL in the body, or the SQL in the `query` parameter and the insert data
 * in the body. Query parameters come as `param_<name>`, and inserts accept
 * `insert_deduplication_token`. An error returns status 500 with the
 * engine's message, as a server does. It is not a general server: it has no
 * sessions, compression, authentication or other settings.
 *
 * Usage: PORT=<port> DATA_DIR=<dir> bun bench/servers/clickhouseHttp.ts
 */
import { mkdirSync } from "node:fs"

const port = Number(process.env.PORT ?? 0)
const dataDir = process.env.DATA_DIR ?? "./data/bench-clickhouse"
mkdirSync(dataDir, { recursive: true })

const chdb = await import("chdb")
const session = new chdb.Session(dataDir, {
  connectionArgs: ["--output_format_json_quote_64bit_integers=0"],
})

const INSERT = /^\s*INSERT\s+INTO\s+([A-Za-z0-9_.`]+)\s+FORMAT\s+JSONEachRow\s*$/i
const FORMAT_SUFFIX = /\s+FORMAT\s+([A-Za-z]+)\s*;?\s*$/i

const failure = (error: unknown) =>
  new Response(error instanceof Error ? error.message : String(error), {
    status: 500,
    headers: { "x-clickhouse-exception-code": "1" },
  })

const runQuery = async (sql: string, params: Record<string, string>) => {
  const format = FORMAT_SUFFIX.exec(sql)?.[1] ?? "TabSeparated"
  const text = sql.replace(FORMAT_SUFFIX, "")
  const result =
    Object.keys(params).length === 0
      ? await session.queryAsync(text, { format })
      : await session.queryBindAsync(text, params, { format })
  return new Response(result.bytes(), {
    headers: { "content-type": "text/plain; charset=UTF-8", "x-clickhouse-format": format },
  })
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  idleTimeout: 60,
  maxRequestBodySize: 256 * 1024 * 1024,
  async fetch(request) {
    const url = new URL(request.url)
    if (url.pathname === "/ping") return new Response("Ok.\n")
    const search = url.searchParams
    if (request.method !== "POST" && !(request.method === "GET" && search.has("query"))) {
      return new Response("Only POST, and GET with a query, are served.\n", { status: 400 })
    }
    const params: Record<string, string> = {}
    for (const [name, value] of search) {
      if (name.startsWith("param_")) params[name.slice("param_".length)] = value
    }
    const body = await request.text()
    try {
      const queryParameter = search.get("query")
      const insert = queryParameter === null ? null : INSERT.exec(queryParameter)
      if (insert !== null) {
        const token = search.get("insert_deduplication_token")
        await session.insert({
          table: insert[1]!.replaceAll("`", ""),
          values: body,
          format: "JSONEachRow",
          ...(token === null ? {} : { settings: { insert_deduplication_token: token } }),
        })
        return new Response("")
      }
      const sql = queryParameter === null ? body : `${queryParameter}\n${body}`
      return await runQuery(sql, params)
    } catch (error) {
      return failure(error)
    }
  },
})

console.log(`clickhouse-http listening on ${server.url}`)
const stop = () => {
  server.stop(true)
  session.close()
  void chdb.drainPending().then(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
