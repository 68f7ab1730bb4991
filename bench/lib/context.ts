/**
 * The context every scenario gets: the options of the run, the processes
 * under test, the measurement helper and the lists that collect results.
 */
import type { Child } from "./children.ts"
import type { LatencySummary } from "./latency.ts"
import {
  CpuMeter,
  type CpuUsage,
  cpuSeconds,
  findPids,
  memoryMb,
  resetPeakMemory,
  threadCpu,
  threadGroupUsage,
} from "./proc.ts"
import type { Service } from "./service.ts"

export interface BenchOptions {
  readonly quick: boolean
  /** Scenario names to run; empty means all. */
  readonly only: ReadonlyArray<string>
  readonly redisDb: number
  readonly postgresUrl: string
  readonly redisUrl: string
  /** ClickHouse server for the service; undefined runs the embedded chDB or `clickhouseProcess`. */
  readonly clickhouseUrl: string | undefined
  /** Runs chDB in a process of its own (bench/servers/clickhouseHttp.ts) and points the service at it. */
  readonly clickhouseProcess: boolean
  /** The service's ROLE; `api` runs no queue workers; `split` adds a process with ROLE=worker. */
  readonly role: string
  readonly profile: boolean
  readonly keepDatabase: boolean
  /** Use the Bun generator even when wrk is installed. */
  readonly noWrk: boolean
}

export interface Server {
  readonly child: Child
  readonly port: number
  readonly url: string
}

export interface Measurement {
  readonly scenario: string
  readonly target: "service" | "floor"
  /** Short label of the load, such as `5000/s` or `saturation round 2`. */
  readonly label: string
  readonly generator: "bun open loop" | "bun closed loop" | "bun burst" | "wrk"
  readonly offeredRate?: number | undefined
  readonly connections: number
  readonly seconds: number
  readonly requests: number
  readonly ok: number
  readonly errors: number
  readonly errorsByCause: Record<string, number>
  readonly statuses?: Record<string, number> | undefined
  /** Successful requests per second. */
  readonly throughput: number
  readonly latency: LatencySummary
  readonly wireLatency?: LatencySummary | undefined
  readonly sendLag?: LatencySummary | undefined
  /** Latency minus the fake provider's fixed latency, for provider-bound routes. */
  readonly serviceTime?: LatencySummary | undefined
  readonly cpu: CpuUsage
  /** Peak RSS of the target process during this measurement, in MB. */
  readonly peakRssMb: number | undefined
  /** Percent of one core by thread group of the target, such as the JavaScript thread or GC helpers. */
  readonly targetThreads?: Record<string, number> | undefined
  readonly extra?: Record<string, unknown> | undefined
}

export interface Skipped {
  readonly scenario: string
  readonly reason: string
}

export interface BenchContext {
  readonly options: BenchOptions
  readonly runId: string
  readonly workDir: string
  /** Replaced when the service had to be restarted between scenarios. */
  service: Service
  readonly provider: Server
  readonly webhookFloor: Server
  readonly callbackFloor: Server
  /** chDB in its own process, when the run uses one. */
  readonly clickhouse: Server | undefined
  /** The process with ROLE=worker, with `--role split`. */
  readonly worker: Child | undefined
  readonly wrk: string | undefined
  readonly measurements: Array<Measurement>
  readonly skipped: Array<Skipped>
  readonly notes: Array<string>
  readonly log: (message: string) => void
}

const redisPids = findPids("redis-server")
const postgresPids = () => findPids("postgres")

/**
 * Runs `work` while measuring the CPU of the target, this generator, Redis,
 * Postgres and the fake provider, and the target's peak RSS.
 */
export const measure = async <T>(
  context: BenchContext,
  target: Child,
  work: () => Promise<T>,
  extraProcesses: Record<string, number> = {},
): Promise<{
  result: T
  cpu: CpuUsage
  peakRssMb: number | undefined
  targetThreads: Record<string, number>
}> => {
  resetPeakMemory(target.pid)
  const threadsBefore = threadCpu(target.pid)
  const startedAt = performance.now()
  const meter = new CpuMeter({
    target: target.pid,
    generator: process.pid,
    redis: () => redisPids,
    postgres: postgresPids,
    provider: context.provider.child.pid,
    ...(context.clickhouse === undefined ? {} : { clickhouse: context.clickhouse.child.pid }),
    ...(context.worker === undefined ? {} : { worker: context.worker.pid }),
    ...extraProcesses,
  }).start()
  const result = await work()
  const cpu = meter.stop()
  const wallSeconds = (performance.now() - startedAt) / 1000
  const targetThreads = threadGroupUsage(threadsBefore, threadCpu(target.pid), wallSeconds)
  return { result, cpu, peakRssMb: memoryMb(target.pid)?.peak, targetThreads }
}

/**
 * Waits until the fake provider has received no token request for a second
 * (at most `timeoutMillis`). Callbacks whose clients gave up may still be
 * queued in the service for a provider permit. They use little CPU, so
 * `waitForIdle` alone would not see them. Returns the seconds waited.
 */
export const waitForProviderQuiet = async (context: BenchContext, timeoutMillis = 120_000) => {
  const start = performance.now()
  const tokenRequests = async () => {
    const response = await fetch(`${context.provider.url}/stats`)
    return ((await response.json()) as { token_requests: number }).token_requests
  }
  let last = await tokenRequests()
  while (performance.now() - start < timeoutMillis) {
    await Bun.sleep(1_000)
    const current = await tokenRequests()
    if (current === last) break
    last = current
  }
  return (performance.now() - start) / 1000
}

/** Processes that `waitForIdle` waits for besides the one it is given. */
const idleCompanions: Array<number> = []

/** Makes every later `waitForIdle` wait for `pid` too, such as a separate worker process. */
export const alsoWaitForIdle = (pid: number): void => {
  idleCompanions.push(pid)
}

/**
 * Waits until the process, and each process given to `alsoWaitForIdle`,
 * uses less than `percent` of a core over a quarter second, so the
 * background work of one measurement (queue workers, batches) does not
 * spill into the next. Returns the seconds waited.
 */
export const waitForIdle = async (pid: number, percent = 10, timeoutMillis = 15_000) => {
  const start = performance.now()
  const pids = [pid, ...idleCompanions]
  while (performance.now() - start < timeoutMillis) {
    const before = pids.map((each) => cpuSeconds(each) ?? 0)
    await Bun.sleep(250)
    const busy = pids.some(
      (each, index) => (cpuSeconds(each) ?? 0) - before[index]! >= (percent / 100) * 0.25,
    )
    if (!busy) break
  }
  return (performance.now() - start) / 1000
}
