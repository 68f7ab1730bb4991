/** The embedded chDB adapter: parameters, error mapping and timeouts. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ChdbAdapter from "../../src/analytics/ChdbAdapter.ts"
import { ClickHouse } from "../../src/analytics/ClickHouse.ts"

const dataDir = mkdtempSync(join(tmpdir(), "analytics-chdb-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const Embedded = Layer.effect(
  ClickHouse,
  ChdbAdapter.make({ dataDir, requestTimeout: "300 millis" }),
)

layer(Embedded, { excludeTestServices: true })("ChdbAdapter", (it) => {
  it.effect("describes the engine and its data directory", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      yield* clickhouse.ping
      expect(clickhouse.describe()).toMatch(/^chDB 3\.4\.0 \(embedded ClickHouse \d+\.\d+/)
      expect(clickhouse.describe()).toContain(join(dataDir, "chdb"))
    }),
  )

  it.effect("binds parameters as values, not SQL", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const text = "x'); DROP TABLE t; --"
      const rows = yield* clickhouse.query<{ text: string; n: number }>(
        "SELECT {text:String} AS text, {n:Int64} + 1 AS n",
        { text, n: 41 },
      )
      expect(rows).toEqual([{ text, n: 42 }])
    }),
  )

  it.effect("returns 64-bit counts as JSON numbers", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const rows = yield* clickhouse.query<{ n: number }>("SELECT count() AS n FROM numbers(10)")
      expect(rows).toEqual([{ n: 10 }])
    }),
  )

  it.effect("inserts rows as JSONEachRow", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      yield* clickhouse.command(
        "CREATE TABLE probe (id String, ms Nullable(Float64)) ENGINE = MergeTree ORDER BY id",
      )
      yield* clickhouse.insert("probe", [
        { id: "a", ms: 1.5 },
        { id: "b", ms: null },
      ])
      yield* clickhouse.insert("probe", [])
      const rows = yield* clickhouse.query("SELECT id, ms FROM probe ORDER BY id")
      expect(rows).toEqual([
        { id: "a", ms: 1.5 },
        { id: "b", ms: null },
      ])
    }),
  )

  it.effect("maps an engine exception to query_failed with its code", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const error = yield* Effect.flip(clickhouse.query("SELECT * FROM missing_table"))
      expect(error.reason).toBe("query_failed")
      expect(error.code).toBe("clickhouse_error")
      expect(error.serverCode).toBe(60)
      expect(error.message).toContain("code 60")
    }),
  )

  it.effect("rejects an insert into a table name that is not an identifier", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const error = yield* Effect.flip(clickhouse.insert("probe; DROP TABLE probe", [{ id: "x" }]))
      expect(error.reason).toBe("query_failed")
      expect(error.message).toContain("not an identifier")
    }),
  )

  it.effect("fails with timeout when a query outlasts the request timeout", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const error = yield* Effect.flip(clickhouse.query("SELECT sleep(1)"))
      expect(error.reason).toBe("timeout")
    }),
  )
})
