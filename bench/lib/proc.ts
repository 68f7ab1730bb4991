/**
 * CPU time and memory of processes and of the whole machine, read from
 * Linux's /proc (proc(5)): utime and stime of /proc/<pid>/stat, VmHWM and
 * VmRSS of /proc/<pid>/status, and the first line of /proc/stat.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { round } from "./latency.ts"

// USER_HZ, the unit of the tick counts in /proc; 100 on every common Linux build.
const TICKS_PER_SECOND = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString()) || 100

/** User plus system CPU seconds a process has used so far, or undefined when it is gone. */
export const cpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    // The command name may contain spaces, so fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** Peak (VmHWM) and current (VmRSS) resident set size in MB, or undefined when the process is gone. */
export const memoryMb = (pid: number): { peak: number; current: number } | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1")
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
    return { peak: round(kb("VmHWM") / 1024, 1), current: round(kb("VmRSS") / 1024, 1) }
  } catch {
    return undefined
  }
}

/**
 * Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+), so
 * the next read gives the peak of one scenario rather than of the process's
 * life. Returns false where the kernel refuses it.
 */
export const resetPeakMemory = (pid: number): boolean => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5")
    return true
  } catch {
    return false
  }
}

interface MachineTicks {
  readonly busy: number
  readonly total: number
  readonly steal: number
}

const machineTicks = (): MachineTicks => {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0]!
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as [number, number, number, number, number, number, number, number]
  const total = user + nice + system + idle + iowait + irq + softirq + steal
  return { busy: total - idle - iowait, total, steal }
}

export interface CpuUsage {
  /** CPU seconds per process name over the measurement. */
  readonly seconds: Record<string, number>
  /** The same as a percentage of one core: 100 means one core fully busy. */
  readonly percentOfCore: Record<string, number>
  /** Busy share of all cores of the machine, every process included, in percent. */
  readonly machineBusyPercent: number
  /** Share of machine time stolen by the hypervisor, in percent. */
  readonly machineStealPercent: number
  /** Machine CPU seconds not used by the named processes: other work on the machine. */
  readonly otherSeconds: number
  /** `otherSeconds` as a percentage of one core. */
  readonly otherPercentOfCore: number
}

/** A process to measure: one pid, or a function listing several (Postgres backends). */
export type Measured = number | (() => ReadonlyArray<number>)

const pidsOf = (measured: Measured): ReadonlyArray<number> =>
  typeof measured === "number" ? [measured] : measured()

/**
 * Measures CPU use of named processes and of the machine between `start` and
 * `stop`. A process that starts in between counts from its start; one that
 * ends in between is missed, which only lowers the figure.
 */
export class CpuMeter {
  private readonly before = new Map<string, Map<number, number>>()
  private startedAt = 0
  private machineBefore: MachineTicks = { busy: 0, total: 0, steal: 0 }

  constructor(private readonly processes: Record<string, Measured>) {}

  start(): this {
    for (const [name, measured] of Object.entries(this.processes)) {
      const baseline = new Map<number, number>()
      for (const pid of pidsOf(measured)) baseline.set(pid, cpuSeconds(pid) ?? 0)
      this.before.set(name, baseline)
    }
    this.startedAt = performance.now()
    this.machineBefore = machineTicks()
    return this
  }

  stop(): CpuUsage {
    const wallSeconds = (performance.now() - this.startedAt) / 1000
    const machine = machineTicks()
    const seconds: Record<string, number> = {}
    const percentOfCore: Record<string, number> = {}
    let named = 0
    for (const [name, measured] of Object.entries(this.processes)) {
      const baseline = this.before.get(name) ?? new Map<number, number>()
      let used = 0
      for (const pid of pidsOf(measured)) {
        used += Math.max(0, (cpuSeconds(pid) ?? 0) - (baseline.get(pid) ?? 0))
      }
      named += used
      seconds[name] = round(used, 2)
      percentOfCore[name] = round((100 * used) / wallSeconds, 1)
    }
    const total = machine.total - this.machineBefore.total
    const busy = machine.busy - this.machineBefore.busy
    return {
      seconds,
      percentOfCore,
      machineBusyPercent: total > 0 ? round((100 * busy) / total, 1) : 0,
      machineStealPercent:
        total > 0 ? round((100 * (machine.steal - this.machineBefore.steal)) / total, 1) : 0,
      otherSeconds: round(Math.max(0, busy / TICKS_PER_SECOND - named), 2),
      otherPercentOfCore: round(
        (100 * Math.max(0, busy / TICKS_PER_SECOND - named)) / wallSeconds,
        1,
      ),
    }
  }
}

/** Describes the machine for the record of a run. */
export const describeMachine = () => {
  const cpuinfo = readFileSync("/proc/cpuinfo", "latin1")
  const meminfo = readFileSync("/proc/meminfo", "latin1")
  const memTotalKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0)
  const loadavg = readFileSync("/proc/loadavg", "latin1").trim().split(" ").slice(0, 3).join(" ")
  return {
    nproc: navigator.hardwareConcurrency,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    cpuMhz: Number(/cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1] ?? 0),
    memoryGb: round(memTotalKb / 1024 / 1024, 1),
    kernel: readFileSync("/proc/sys/kernel/osrelease", "latin1").trim(),
    bun: Bun.version,
    loadAverageAtStart: loadavg,
  }
}

/** Pids of processes whose command line contains `needle` (the shared Redis and Postgres). */
export const findPids = (needle: string): Array<number> => {
  const pids: Array<number> = []
  for (const entry of new Bun.Glob("[0-9]*").scanSync({ cwd: "/proc", onlyFiles: false })) {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "latin1")
      if (cmdline.includes(needle)) pids.push(Number(entry))
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids
}

/**
 * CPU seconds of each thread of a process, keyed by thread id, with the
 * thread's name (comm) such as `bun`, `HeapHelper` or a chDB pool name.
 */
export const threadCpu = (pid: number): Map<string, { name: string; seconds: number }> => {
  const threads = new Map<string, { name: string; seconds: number }>()
  try {
    for (const tid of new Bun.Glob("[0-9]*").scanSync({
      cwd: `/proc/${pid}/task`,
      onlyFiles: false,
    })) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1")
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        threads.set(tid, {
          name,
          seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
        })
      } catch {
        // The thread ended while the list was read.
      }
    }
  } catch {
    // The process is gone.
  }
  return threads
}

/**
 * Percent of one core used by each group of threads between two
 * `threadCpu` snapshots. Threads are grouped by name with digits removed,
 * so numbered pool threads add up; the `limit` busiest groups are kept.
 */
export const threadGroupUsage = (
  before: Map<string, { name: string; seconds: number }>,
  after: Map<string, { name: string; seconds: number }>,
  wallSeconds: number,
  limit = 8,
): Record<string, number> => {
  const groups = new Map<string, number>()
  for (const [tid, thread] of after) {
    const used = thread.seconds - (before.get(tid)?.seconds ?? 0)
    if (used <= 0) continue
    const group = thread.name.replace(/[\d:#-]+$/g, "").trim() || thread.name
    groups.set(group, (groups.get(group) ?? 0) + used)
  }
  return Object.fromEntries(
    [...groups.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([group, seconds]) => [group, round((100 * seconds) / wallSeconds, 1)]),
  )
}
