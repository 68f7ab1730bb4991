/**
 * Child processes of a benchmark run: the service, the fake provider, the
 * floor servers and wrk. Each is registered so that a normal end, an error,
 * Ctrl-C or SIGTERM stops every one of them, and their output goes to log
 * files next to the results.
 */
import { openSync } from "node:fs"
import type { Subprocess } from "bun"

const running = new Set<Subprocess>()
const cleanups: Array<() => Promise<void> | void> = []

export interface SpawnOptions {
  readonly name: string
  readonly cmd: ReadonlyArray<string>
  readonly env?: Record<string, string> | undefined
  readonly cwd?: string | undefined
  /** File that receives stdout and stderr. */
  readonly logFile: string
  /** True for a process that ends on its own, such as wrk; its exit is not reported. */
  readonly exitsByItself?: boolean | undefined
}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly process: Subprocess
  /** Sends SIGTERM, waits up to `graceMillis`, then SIGKILL. */
  readonly stop: (graceMillis?: number) => Promise<number | null>
}

export const spawnChild = (options: SpawnOptions): Child => {
  const log = openSync(options.logFile, "a")
  const child = Bun.spawn([...options.cmd], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: log,
    stderr: log,
  })
  running.add(child)
  let stopping = false
  void child.exited.then(() => {
    running.delete(child)
    if (!stopping && cleaning === undefined && options.exitsByItself !== true) {
      console.error(
        `${options.name} (pid ${child.pid}) exited unexpectedly with ` +
          `${child.exitCode ?? child.signalCode}; see ${options.logFile}`,
      )
    }
  })
  const stop = async (graceMillis = 5_000) => {
    stopping = true
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMillis)
    const code = await child.exited
    clearTimeout(timer)
    return code
  }
  return { name: options.name, pid: child.pid, process: child, stop }
}

/** Registers work to run once when the run ends, in reverse order of registration. */
export const onCleanup = (cleanup: () => Promise<void> | void): void => {
  cleanups.push(cleanup)
}

let cleaning: Promise<void> | undefined

/** Stops every child and runs the cleanups; safe to call more than once. */
export const cleanupAll = (): Promise<void> => {
  cleaning ??= (async () => {
    await Promise.allSettled(
      [...running].map(async (child) => {
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
        await child.exited
        clearTimeout(timer)
      }),
    )
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (error) {
        console.error(`cleanup failed: ${String(error)}`)
      }
    }
  })()
  return cleaning
}

/** Installs the signal and exit handlers; call once at start. */
let stopSignal: string | undefined

/** The signal that asked the run to stop, if one did; the run then writes no record. */
export const stopRequested = (): string | undefined => stopSignal

export const installCleanupHandlers = (): void => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      // A stop can arrive more than once; only the first one acts.
      if (stopSignal !== undefined) return
      stopSignal = signal
      console.error(
        `\nreceived ${signal}; stopping the children and cleaning up, no record is written`,
      )
      void cleanupAll().finally(() => process.exit(130))
    })
  }
  // A last resort when the process exits without the async cleanup: kill what is left.
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL")
  })
}

/** Polls `url` until it returns `expectedStatus`, the child exits, or `timeoutMillis` passes. */
export const waitForHttp = async (
  url: string,
  child: Child,
  timeoutMillis: number,
  expectedStatus = 200,
): Promise<void> => {
  const deadline = performance.now() + timeoutMillis
  let last = "no answer"
  while (performance.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(
        `${child.name} exited with ${child.process.exitCode ?? child.process.signalCode} before it was ready; see its log`,
      )
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.status === expectedStatus) return
      last = `status ${response.status}`
    } catch (error) {
      last = String(error)
    }
    await Bun.sleep(100)
  }
  throw new Error(`${child.name} was not ready at ${url} within ${timeoutMillis} ms (${last})`)
}
