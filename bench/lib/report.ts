/**
 * Writes the results of a run: the JSON record, the latency chart (SVG) and
 * the Markdown summary that links the chart.
 */
import { existsSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { type Panel, renderChart, type Series } from "./chart.ts"
import type { Measurement, Skipped } from "./context.ts"
import type { GoalResult } from "./goals.ts"

export interface RunRecord {
  readonly runId: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly command: string
  readonly quick: boolean
  readonly machine: Record<string, unknown>
  readonly generator: string
  /** The service's configuration, such as its ROLE and analytics store. */
  readonly serviceSetup?: string | undefined
  readonly goals: ReadonlyArray<GoalResult>
  readonly measurements: ReadonlyArray<Measurement>
  readonly skipped: ReadonlyArray<Skipped>
  readonly notes: ReadonlyArray<string>
}

const COLORS = { service: "#1f6feb", floor: "#d1242f" }

const latencySeries = (
  measurements: ReadonlyArray<Measurement>,
  scenarios: ReadonlyArray<string>,
  target: "service" | "floor",
  pick: (m: Measurement) => number | undefined,
  name: string,
  dashed: boolean,
): Series => ({
  name,
  color: COLORS[target],
  dashed,
  points: measurements
    .filter(
      (m) => scenarios.includes(m.scenario) && m.target === target && m.offeredRate !== undefined,
    )
    .map((m) => ({ x: m.offeredRate!, y: pick(m) ?? 0 })),
})

export const chartPanels = (measurements: ReadonlyArray<Measurement>): Array<Panel> => {
  const webhook = ["webhook.fixed_rate"]
  const callback = ["oauth.sustained", "oauth.rate", "oauth.burst"]
  const panels: Array<Panel> = []
  const series = (
    scenarios: Array<string>,
    pick50: (m: Measurement) => number | undefined,
    pick99: (m: Measurement) => number | undefined,
  ) =>
    (["service", "floor"] as const).flatMap((target) => [
      latencySeries(measurements, scenarios, target, pick50, `${target} p50`, false),
      latencySeries(measurements, scenarios, target, pick99, `${target} p99`, true),
    ])
  if (measurements.some((m) => webhook.includes(m.scenario))) {
    panels.push({
      title: "Webhook acknowledgement latency",
      xLabel: "offered load (requests/s, open loop)",
      yLabel: "latency (ms, from intended send time)",
      series: series(
        webhook,
        (m) => m.latency.p50,
        (m) => m.latency.p99,
      ),
    })
  }
  if (measurements.some((m) => callback.includes(m.scenario))) {
    panels.push({
      title: "OAuth callback service time",
      xLabel: "offered load (flows/s, open loop)",
      yLabel: "callback latency − 200 ms provider (ms)",
      series: series(
        callback,
        (m) => m.serviceTime?.p50,
        (m) => m.serviceTime?.p99,
      ),
    })
  }
  return panels
}

const cell = (value: unknown): string =>
  value === undefined || value === null ? "–" : String(value)

const measurementRow = (m: Measurement): string => {
  const time = m.serviceTime ?? m.latency
  const errors =
    m.errors === 0
      ? "0"
      : `${m.errors} (${Object.entries(m.errorsByCause)
          .filter(([, count]) => count > 0)
          .map(([cause, count]) => `${cause} ${count}`)
          .join(", ")})`
  const threads = Object.entries(m.targetThreads ?? {})
    .slice(0, 3)
    .map(([name, percent]) => `${name} ${percent}`)
    .join(", ")
  const targetSeconds = m.cpu.seconds.target ?? 0
  const perRequest = m.ok > 0 ? Math.round((targetSeconds * 1e6) / m.ok) : undefined
  return `| ${m.target} | ${m.label} | ${m.throughput} | ${time.p50} | ${time.p95} | ${time.p99} | ${errors} | ${cell(m.cpu.percentOfCore.target)} | ${cell(perRequest)} | ${cell(threads)} | ${cell(m.cpu.percentOfCore.generator)} | ${m.cpu.machineBusyPercent} | ${m.cpu.otherPercentOfCore} | ${cell(m.peakRssMb)} |`
}

const SCENARIO_TITLES: Record<string, string> = {
  idle: "Service at rest after the warm-up",
  "webhook.fixed_rate": "Webhook ingest at fixed rates (latency from the intended send time)",
  "webhook.duplicates": "Webhook ingest with 10 % duplicates at 5,000/s",
  "webhook.saturation": "Webhook ingest at saturation",
  "webhook.saturation_duplicates": "Webhook ingest at saturation with 10 % duplicates",
  "oauth.concurrent": "OAuth flows in flight at once (callback service time)",
  "oauth.sustained": "OAuth flows, sustained (callback service time)",
  "oauth.rate": "OAuth flows at 250/s (callback service time)",
  "oauth.burst": "OAuth flows, burst (callback service time)",
  "refresh.sustained": "Token refresh, sustained (service time)",
  "refresh.saturation": "Token refresh at saturation (service time)",
  "refresh.single_flight": "One expired integration, concurrent callers",
  "analytics.lag": "Analytics lag (webhook latency shown; lag in the goals table)",
  combined: "Combined load (webhook latency shown)",
  "combined.light": "A fifth of the combined load (webhook latency shown)",
}

export const renderMarkdown = (record: RunRecord, chartFile: string | undefined): string => {
  const lines: Array<string> = []
  const machine = record.machine
  lines.push(`# Benchmark run ${record.runId}`, "")
  lines.push(`- command: \`${record.command}\``)
  lines.push(`- started ${record.startedAt}, finished ${record.finishedAt}`)
  lines.push(
    `- machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, kernel ${machine.kernel}, Bun ${machine.bun}, load average at start ${machine.loadAverageAtStart}`,
  )
  if (record.serviceSetup !== undefined) lines.push(`- service: ${record.serviceSetup}`)
  lines.push(`- generators: ${record.generator}`, "")

  lines.push("## Goals", "", "| goal | measured | floor | met |", "| --- | --- | --- | --- |")
  for (const goal of record.goals) {
    let met = "not measured"
    if (goal.met !== undefined) met = goal.met ? "yes" : "no"
    lines.push(`| ${goal.goal} | ${goal.measured} | ${cell(goal.floor)} | ${met} |`)
  }
  lines.push("")
  if (chartFile !== undefined)
    lines.push(`![latency against offered load](${basename(chartFile)})`, "")

  lines.push("## Measurements", "")
  lines.push(
    "Latency columns are milliseconds; where a provider is involved they are service time (latency minus the fake provider's fixed latency). CPU is percent of one core over the measurement: the target process, its CPU time divided by the successful requests (or flows) of the measurement, which depends far less on other load than throughput does, its busiest thread groups (by thread name: `bun` is the JavaScript thread, `HeapHelper` the garbage collector's helpers; other names are native pools such as chDB's), the load generator, the whole machine (all cores, every process, 100 = all busy), and the processes outside the run (neither the target, the generator, the fake provider, Redis nor Postgres), which shows how noisy the machine was. Peak RSS is the target's VmHWM, reset before each measurement.",
    "",
  )
  const scenarios = [...new Set(record.measurements.map((m) => m.scenario))]
  for (const scenario of scenarios) {
    lines.push(`### ${SCENARIO_TITLES[scenario] ?? scenario}`, "")
    lines.push(
      "| target | load | ok/s | p50 | p95 | p99 | errors | target CPU % | target CPU µs per success | busiest target threads, % | generator CPU % | machine busy % | other processes CPU % | peak RSS MB |",
    )
    lines.push(
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    )
    for (const m of record.measurements.filter((entry) => entry.scenario === scenario))
      lines.push(measurementRow(m))
    lines.push("")
  }

  if (record.skipped.length > 0) {
    lines.push("## Skipped", "")
    for (const skipped of record.skipped) lines.push(`- ${skipped.scenario}: ${skipped.reason}`)
    lines.push("")
  }
  if (record.notes.length > 0) {
    lines.push("## Notes", "")
    for (const note of record.notes) lines.push(`- ${note}`)
    lines.push("")
  }
  return lines.join("\n")
}

export const writeResults = (basePath: string, record: RunRecord) => {
  writeFileSync(`${basePath}.json`, `${JSON.stringify(record, null, 2)}\n`)
  const panels = chartPanels(record.measurements)
  let chartFile: string | undefined
  if (panels.length > 0) {
    chartFile = `${basePath}.svg`
    writeFileSync(
      chartFile,
      renderChart(panels, `run ${record.runId}; service and floor measured in the same run`),
    )
  }
  writeFileSync(`${basePath}.md`, renderMarkdown(record, chartFile))
  formatWithBiome(repoDirOf(basePath), [
    `${basePath}.json`,
    ...(chartFile === undefined ? [] : [chartFile]),
  ])
  return { json: `${basePath}.json`, markdown: `${basePath}.md`, chart: chartFile }
}

const repoDirOf = (basePath: string) => join(dirname(basePath), "..", "..")

/** Formats generated files the way `bun run lint` expects, so committed results pass it. */
const formatWithBiome = (repoDir: string, files: ReadonlyArray<string>) => {
  const biome = join(repoDir, "node_modules/.bin/biome")
  if (!existsSync(biome)) return
  Bun.spawnSync([biome, "format", "--write", ...files], {
    cwd: repoDir,
    stdout: "ignore",
    stderr: "ignore",
  })
}
