import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { SCHEMA_DIRECTORY } from "../../../src/storage/Migrator.ts"
import { splitStatements } from "../../../src/storage/SqlScript.ts"

describe("splitStatements", () => {
  it("splits at top-level semicolons and trims", () => {
    expect(splitStatements("SELECT 1;\n  SELECT 2 ;\nSELECT 3")).toEqual([
      "SELECT 1",
      "SELECT 2",
      "SELECT 3",
    ])
  })

  it("drops empty and comment-only statements", () => {
    expect(splitStatements(";;\n-- a comment;\n/* block; */\nSELECT 1;\n-- trailing")).toEqual([
      "-- a comment;\n/* block; */\nSELECT 1",
    ])
  })

  it("keeps semicolons inside string literals", () => {
    expect(splitStatements("SELECT 'a;b', 'it''s;';SELECT 2")).toEqual([
      "SELECT 'a;b', 'it''s;'",
      "SELECT 2",
    ])
  })

  it("keeps semicolons inside escape strings", () => {
    expect(splitStatements("SELECT E'a\\';b';SELECT 2")).toEqual(["SELECT E'a\\';b'", "SELECT 2"])
  })

  it("reads a backslash as literal in a standard string", () => {
    expect(splitStatements("SELECT 'a\\';SELECT 2")).toEqual(["SELECT 'a\\'", "SELECT 2"])
  })

  it("keeps semicolons inside quoted identifiers", () => {
    expect(splitStatements('CREATE TABLE "a;b" (id int);SELECT 2')).toEqual([
      'CREATE TABLE "a;b" (id int)',
      "SELECT 2",
    ])
  })

  it("keeps semicolons inside dollar-quoted bodies", () => {
    const body =
      "CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; END; $fn$ LANGUAGE plpgsql"
    expect(splitStatements(`${body};SELECT $$x;y$$`)).toEqual([body, "SELECT $$x;y$$"])
  })

  it("reads a dollar sign inside a name as part of the name", () => {
    expect(splitStatements("SELECT a$b$ FROM t;SELECT 2")).toEqual([
      "SELECT a$b$ FROM t",
      "SELECT 2",
    ])
  })

  it("keeps semicolons inside nested block comments", () => {
    expect(splitStatements("/* outer /* inner; */ still; */ SELECT 1;SELECT 2")).toEqual([
      "/* outer /* inner; */ still; */ SELECT 1",
      "SELECT 2",
    ])
  })

  it("splits the shipped schema into one statement per CREATE", () => {
    const script = readFileSync(join(SCHEMA_DIRECTORY, "0001_initial.sql"), "utf8")
    const statements = splitStatements(script)
    const creates = script.match(/^CREATE /gm) ?? []
    expect(statements).toHaveLength(creates.length)
    for (const statement of statements) {
      expect(statement.replace(/^(\s*--[^\n]*\n)+\s*/, "")).toMatch(/^CREATE /)
    }
  })
})
