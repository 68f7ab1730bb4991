/** The ClickHouse migrator on embedded chDB: versioned files, checksums and TTL settings. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ClickHouse, makeAdapter } from "../../src/analytics/ClickHouse.ts"
import {
  DEFAULT_MIGRATIONS_DIRECTORY,
  migrate,
  readMigrations,
  splitStatements,
} from "../../src/analytics/Migrator.ts"

const dataDir = mkdtempSync(join(tmpdir(), "analytics-migrator-"))
const migrationsDir = mkdtempSync(join(tmpdir(), "analytics-migrations-"))
cpSync(DEFAULT_MIGRATIONS_DIRECTORY, migrationsDir, { recursive: true })
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(migrationsDir, { recursive: true, force: true })
})

const Unmigrated = Layer.effect(ClickHouse, makeAdapter({ url: undefined, dataDir, ttlDays: 90 }))

const engineOf = (table: string) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const rows = yield* clickhouse.query<{ engine_full: string }>(
      "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {table:String}",
      { table },
    )
    return rows[0]?.engine_full ?? ""
  })

describe("splitStatements", () => {
  it("splits at semicolons that end a line and drops comment lines", () => {
    const text =
      "-- header; not a statement\nCREATE TABLE a (x String DEFAULT ';')\nENGINE = Memory;\n\nSELECT 1;"
    expect(splitStatements(text)).toEqual([
      "CREATE TABLE a (x String DEFAULT ';')\nENGINE = Memory",
      "SELECT 1",
    ])
  })
})

describe("readMigrations", () => {
  it.effect("orders the shipped files by version", () =>
    Effect.gen(function* () {
      const migrations = yield* readMigrations(DEFAULT_MIGRATIONS_DIRECTORY)
      expect(migrations.map((migration) => migration.version)).toEqual([1, 2, 3, 4, 5])
      for (const migration of migrations) expect(migration.statements.length).toBeGreaterThan(0)
    }),
  )
})

layer(Unmigrated, { excludeTestServices: true })("migrate on chDB", (it) => {
  it.effect("applies each migration once", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const options = { ttlDays: 90, hourlyTtlDays: 730, directory: migrationsDir }
      const first = yield* migrate(clickhouse, options)
      const second = yield* migrate(clickhouse, options)

      expect(first).toEqual([
        "0001_webhook_events.sql",
        "0002_oauth_flow_events.sql",
        "0003_token_exchange_events.sql",
        "0004_token_refresh_events.sql",
        "0005_revocation_events.sql",
      ])
      expect(second).toEqual([])
      expect(yield* engineOf("webhook_events")).toContain(
        "TTL toDateTime(time) + toIntervalDay(90)",
      )
      expect(yield* engineOf("webhook_stats_1h")).toContain("TTL bucket + toIntervalDay(730)")
    }),
  )

  it.effect("changes the TTL when the retention setting changes", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      yield* migrate(clickhouse, { ttlDays: 30, hourlyTtlDays: 365, directory: migrationsDir })

      expect(yield* engineOf("token_refresh_events")).toContain(
        "TTL toDateTime(time) + toIntervalDay(30)",
      )
      expect(yield* engineOf("token_refresh_stats_1m")).toContain("TTL bucket + toIntervalDay(30)")
      expect(yield* engineOf("token_refresh_stats_1h")).toContain("TTL bucket + toIntervalDay(365)")
    }),
  )

  it.effect("rejects an applied migration whose file changed", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      writeFileSync(join(migrationsDir, "0005_revocation_events.sql"), "SELECT 1;\n")
      const error = yield* Effect.flip(
        migrate(clickhouse, { ttlDays: 30, hourlyTtlDays: 365, directory: migrationsDir }),
      )

      expect(error._tag).toBe("MigrationError")
      expect(error.code).toBe("clickhouse_migration_failed")
      if (error._tag === "MigrationError") {
        expect(error.reason).toBe("checksum_mismatch")
        expect(error.message).toContain("0005_revocation_events.sql")
      }
    }),
  )

  it.effect("rejects a file name without a version", () =>
    Effect.gen(function* () {
      const clickhouse = yield* ClickHouse
      const directory = mkdtempSync(join(tmpdir(), "analytics-bad-name-"))
      writeFileSync(join(directory, "add_table.sql"), "SELECT 1;\n")
      const error = yield* Effect.flip(
        migrate(clickhouse, { ttlDays: 30, hourlyTtlDays: 365, directory }),
      )
      rmSync(directory, { recursive: true, force: true })

      expect(error._tag).toBe("MigrationError")
      if (error._tag === "MigrationError") expect(error.reason).toBe("invalid_file_name")
    }),
  )
})
