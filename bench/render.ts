/**
 * Renders the Markdown summary and the SVG chart again from a run's JSON,
 * for example after a change to the report format:
 * `bun bench/render.ts bench/results/<timestamp>.json`.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { evaluateGoals } from "./lib/goals.ts"
import { type RunRecord, writeResults } from "./lib/report.ts"

const file = Bun.argv[2]
if (file === undefined || !file.endsWith(".json")) {
  console.error("Usage: bun bench/render.ts bench/results/<timestamp>.json")
  process.exit(2)
}
const record = JSON.parse(readFileSync(file, "utf8")) as RunRecord
const written = writeResults(resolve(file).slice(0, -".json".length), {
  ...record,
  goals: evaluateGoals(record.measurements),
})
console.log(
  `wrote ${written.markdown}${written.chart === undefined ? "" : ` and ${written.chart}`}`,
)
