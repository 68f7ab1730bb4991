/**
 * The benchmark harness: `bun run bench` (full, about 10 to 15 minutes) or
 * `bun run bench -- --quick` (about a minute or two). It starts the service,
 * a fake OAuth provider and the two floor servers on loopback, runs every
 * scenario against the floors and the service in the same run, and writes
 * bench/results/<timestamp>.json, .md and .svg. See docs/benchmarks.md.
 */
import { mkdirSync, readdirSync, rmdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import {
  cleanupAll,
  installCleanupHandlers,
  onCleanup,
  spawnChild,
  stopRequested,
  waitForHttp,
} from "./lib/children.ts"
import {
  alsoWaitForIdle,
  type BenchContext,
  type BenchOptions,
  type Server,
} from "./lib/context.ts"
import { freePort, prepareEnvironment } from "./lib/environment.ts"
import { evaluateGoals } from "./lib/goals.ts"
import { describeMachine } from "./lib/proc.ts"
import { writeResults } from "./lib/report.ts"
import { generateServiceKeys, startService, startWorker } from "./lib/service.ts"
import { findWrk } from "./lib/wrk.ts"
import { runAnalyticsScenario } from "./scenarios/analytics.ts"
import { runCombinedScenario } from "./scenarios/combined.ts"
import { FLOW_PROVIDER_LATENCY_MS, runOAuthFlowScenarios } from "./scenarios/oauthFlows.ts"
import { runTokenRefreshScenarios } from "./scenarios/tokenRefresh.ts"
import { measureIdle, warmUp } from "./scenarios/warmUp.ts"
import { runWebhookScenarios, WEBHOOK_SECRET } from "./scenarios/webhooks.ts"

const SCENARIOS = {
  webhooks: runWebhookScenarios,
  oauth: runOAuthFlowScenarios,
  refresh: runTokenRefreshScenarios,
  analytics: runAnalyticsScenario,
  combined: runCombinedScenario,
} as const

const USAGE = `Usage: bun run bench [-- options]

  --quick              short runs and fewer loads, about a minute or two
  --only LIST          comma-separated scenarios: ${Object.keys(SCENARIOS).join(", ")}
  --redis-db N         Redis database number for the run, must be empty (default 5)
  --redis-url URL      Redis server (default redis://127.0.0.1:6379)
  --postgres-url URL   Postgres server and maintenance database; the run creates and
                       drops its own database there (default postgres://postgres@127.0.0.1:5432/test)
  --role ROLE          the service's ROLE: all (default); api, which runs no queue workers;
                       or split: ROLE=api under load plus a second process with ROLE=worker
                       (needs --clickhouse-process or --clickhouse-url)
  --clickhouse-url URL ClickHouse server for the service's analytics (default: embedded chDB)
  --clickhouse-process run chDB in a process of its own behind a ClickHouse HTTP front
                       and point the service at it, so the service's figures leave
                       the engine out and the engine's CPU and memory are recorded apart
  --profile            run the service with bun --cpu-prof and keep the profile
  --keep-database      do not drop the run's Postgres database at the end
  --no-wrk             use the Bun generator for saturation even when wrk is installed
  --help               show this text`

const readOptions = (): BenchOptions => {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", default: "" },
      "redis-db": { type: "string", default: "5" },
      "redis-url": { type: "string", default: "redis://127.0.0.1:6379" },
      "postgres-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
      "clickhouse-url": { type: "string", default: "" },
      "clickhouse-process": { type: "boolean", default: false },
      role: { type: "string", default: "all" },
      profile: { type: "boolean", default: false },
      "keep-database": { type: "boolean", default: false },
      "no-wrk": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const only = values.only
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "")
  for (const name of only) {
    if (!(name in SCENARIOS))
      throw new Error(
        `unknown scenario "${name}"; expected one of ${Object.keys(SCENARIOS).join(", ")}`,
      )
  }
  if (values.role !== "all" && values.role !== "api" && values.role !== "split") {
    throw new Error(`--role must be all, api or split, got "${values.role}"`)
  }
  if (values.role === "split" && !values["clickhouse-process"] && values["clickhouse-url"] === "") {
    // chDB opens one data directory per process, so two service processes need a server.
    throw new Error("--role split needs --clickhouse-process or --clickhouse-url")
  }
  const redisDb = Number(values["redis-db"])
  if (!Number.isInteger(redisDb) || redisDb < 0)
    throw new Error(`--redis-db must be a database number, got "${values["redis-db"]}"`)
  return {
    quick: values.quick,
    only,
    redisDb,
    postgresUrl: values["postgres-url"],
    redisUrl: values["redis-url"],
    clickhouseUrl: values["clickhouse-url"] === "" ? undefined : values["clickhouse-url"],
    clickhouseProcess: values["clickhouse-process"] ?? false,
    role: values.role,
    profile: values.profile,
    keepDatabase: values["keep-database"],
    noWrk: values["no-wrk"],
  }
}

const startServer = async (
  name: string,
  script: string,
  env: Record<string, string>,
  readyPath: string,
  workDir: string,
): Promise<Server> => {
  const port = await freePort()
  const child = spawnChild({
    name,
    cmd: ["bun", script],
    env: { PORT: String(port), ...env },
    logFile: join(workDir, `${name}.log`),
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}${readyPath}`, child, 20_000)
  return { child, port, url }
}

const timestamp = (date: Date) =>
  date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "")
    .replace("T", "-")
    .toLowerCase()

const main = async () => {
  const options = readOptions()
  installCleanupHandlers()
  const repoDir = resolve(import.meta.dir, "..")
  const startedAt = new Date()
  const runId = timestamp(startedAt).replace(/z$/, "")
  const resultsDir = join(repoDir, "bench/results")
  // Logs and generated scripts go to a *.tmp folder, which git ignores.
  const workDir = join(resultsDir, `${runId}.tmp`)
  mkdirSync(workDir, { recursive: true })
  // A run refused before it started anything leaves no empty folder behind.
  onCleanup(() => {
    if (readdirSync(workDir).length === 0) rmdirSync(workDir)
  })
  const machine = describeMachine()
  const t0 = performance.now()
  const log = (message: string) =>
    console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`)
  log(
    `run ${runId}${options.quick ? " (quick)" : ""} on ${machine.nproc} × ${machine.cpuModel}, load ${machine.loadAverageAtStart}`,
  )

  const environment = await prepareEnvironment({
    postgresUrl: options.postgresUrl,
    redisServerUrl: options.redisUrl,
    redisDb: options.redisDb,
    runId,
    keepDatabase: options.keepDatabase,
  })
  const provider = await startServer(
    "fake-provider",
    join(repoDir, "bench/servers/fakeProvider.ts"),
    {},
    "/stats",
    workDir,
  )
  const webhookFloor = await startServer(
    "webhook-floor",
    join(repoDir, "bench/servers/webhookFloor.ts"),
    { REDIS_URL: environment.redisUrl, WEBHOOK_SECRET, STREAM: "bench:floor:events" },
    "/",
    workDir,
  )
  const callbackFloor = await startServer(
    "callback-floor",
    join(repoDir, "bench/servers/callbackFloor.ts"),
    {
      REDIS_URL: environment.redisUrl,
      DATABASE_URL: environment.databaseUrl,
      TOKEN_URL: `${provider.url}/p/${FLOW_PROVIDER_LATENCY_MS}/token`,
    },
    "/health",
    workDir,
  )
  const clickhouse = options.clickhouseProcess
    ? await startServer(
        "clickhouse",
        join(repoDir, "bench/servers/clickhouseHttp.ts"),
        { DATA_DIR: join(environment.dataDir, "clickhouse-process") },
        "/ping",
        workDir,
      )
    : undefined
  const clickhouseUrl = options.clickhouseUrl ?? clickhouse?.url
  const profileDir = options.profile ? join(workDir, "profile") : undefined
  const keys = generateServiceKeys()
  const serviceOptions = async (logName: string, role: string) => ({
    keys,
    repoDir,
    environment,
    port: await freePort(),
    allowedRedirectOrigin: provider.url,
    logFile: join(workDir, logName),
    profileDir,
    extraEnv: {
      ROLE: role,
      ...(clickhouseUrl === undefined ? {} : { CLICKHOUSE_URL: clickhouseUrl }),
    },
  })
  const split = options.role === "split"
  const launchService = async () =>
    startService(await serviceOptions("service.log", split ? "api" : options.role))
  const service = await launchService()
  log(`service ready on ${service.baseUrl} (logs in ${workDir})`)
  const worker = split ? await startWorker(await serviceOptions("worker.log", "worker")) : undefined
  if (worker !== undefined) {
    alsoWaitForIdle(worker.pid)
    log("worker process ready (ROLE=worker)")
  }

  const wrk = options.noWrk ? undefined : findWrk()
  const context: BenchContext = {
    options,
    runId,
    workDir,
    service,
    provider,
    webhookFloor,
    callbackFloor,
    clickhouse,
    worker,
    wrk,
    measurements: [],
    skipped: [],
    notes: [],
    log,
  }
  if (wrk === undefined && !options.noWrk) {
    context.notes.push(
      "wrk is not installed (apt-get install -y wrk), so saturation used the Bun closed-loop generator.",
    )
  }

  await warmUp(context)
  await measureIdle(context)
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (options.only.length > 0 && !options.only.includes(name)) continue
    if (stopRequested() !== undefined) break
    const exited =
      context.service.child.process.exitCode ?? context.service.child.process.signalCode
    if (exited !== null) {
      // Measurements after this point come from a fresh process, and the notes record it.
      context.notes.push(
        `The service had exited (${exited}) before "${name}" and was started again.`,
      )
      log(`the service had exited (${exited}); starting it again`)
      context.service = await launchService()
    }
    try {
      await scenario(context)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      context.skipped.push({ scenario: name, reason: `failed: ${message}` })
      log(`${name} failed: ${message}`)
    }
  }

  // Measurements taken while the children were being stopped are not a run.
  if (stopRequested() !== undefined) return
  const exitCode = await context.service.child.stop(30_000)
  if (profileDir !== undefined) context.notes.push(`CPU profile of the service: ${profileDir}`)
  if (exitCode !== 0)
    context.notes.push(`The service exited with ${exitCode}; see ${join(workDir, "service.log")}.`)

  const record = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `bun run bench${Bun.argv.length > 2 ? ` -- ${Bun.argv.slice(2).join(" ")}` : ""}`,
    quick: options.quick,
    machine,
    generator:
      "Bun raw-socket HTTP/1.1 generator for open-loop rates and flows" +
      (wrk === undefined
        ? "; the same generator, closed loop, for saturation"
        : `; ${wrk} (1 thread, 32 connections) for webhook saturation`),
    serviceSetup:
      (split ? "ROLE=api under load plus a process with ROLE=worker" : `ROLE=${options.role}`) +
      ", Postgres and Redis servers, analytics in " +
      (clickhouse !== undefined
        ? "chDB in a process of its own over the ClickHouse HTTP interface (bench/servers/clickhouseHttp.ts)"
        : options.clickhouseUrl === undefined
          ? "the embedded chDB"
          : "a ClickHouse server"),
    goals: evaluateGoals(context.measurements),
    measurements: context.measurements,
    skipped: context.skipped,
    notes: context.notes,
  }
  const files = writeResults(join(resultsDir, runId), record)
  log(`results: ${files.markdown}`)
  for (const goal of record.goals) {
    log(
      `  ${goal.met === undefined ? "n/a " : goal.met ? "met " : "MISS"} ${goal.goal}: ${goal.measured}`,
    )
  }
}

try {
  await main()
} catch (error) {
  console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
