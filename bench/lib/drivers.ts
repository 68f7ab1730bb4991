/**
 * Load shapes on top of `Pool`: open loop at a fixed rate, closed loop with a
 * fixed number of workers, and a measured request that records latency,
 * status and failures.
 *
 * Open loop follows the method of wrk2: request `n` has the intended send
 * time `start + n / rate`, and its latency counts from that time, so a
 * stalled server is charged for the requests it held back (no coordinated
 * omission). The timer wakes about once a millisecond, so a request may
 * leave up to ~1 ms after its intended time, or later when this process
 * waits for CPU. `sendLag` records that delay, and `wire` the latency from
 * the actual send, to tell the two apart.
 */
import type { HttpResponse, Pool } from "./http1.ts"
import { RequestFailed } from "./http1.ts"
import { ErrorCounter, LatencyRecorder, type LatencySummary, round } from "./latency.ts"

export class RequestStats {
  /** From the intended send time (open loop) or the send (closed loop). */
  readonly latency = new LatencyRecorder()
  /** From the moment the request was handed to the pool. */
  readonly wire = new LatencyRecorder()
  readonly sendLag = new LatencyRecorder()
  /** Time from the intended send to the failure, for requests that failed without a response. */
  readonly failedAfter = new LatencyRecorder()
  readonly errors = new ErrorCounter()
  readonly statuses: Record<string, number> = {}
  ok = 0

  /**
   * Sends one request and records it. `accept` decides whether the response
   * counts as a success; a rejected response is an error named by `cause`.
   */
  async measure(
    pool: Pool,
    bytes: Uint8Array,
    intendedAt: number,
    accept: (response: HttpResponse) => string | undefined = defaultAccept,
  ): Promise<HttpResponse | undefined> {
    const sentAt = performance.now()
    this.sendLag.record(sentAt - intendedAt)
    try {
      const response = await pool.request(bytes)
      const now = performance.now()
      this.statuses[response.status] = (this.statuses[response.status] ?? 0) + 1
      const failure = accept(response)
      if (failure !== undefined) {
        this.errors.add(failure)
        return response
      }
      this.ok++
      this.latency.record(now - intendedAt)
      this.wire.record(now - sentAt)
      return response
    } catch (error) {
      this.errors.add(error instanceof RequestFailed ? error.reason : "client_error")
      this.failedAfter.record(performance.now() - intendedAt)
      return undefined
    }
  }

  /** Latency figures; `offsetMillis` is subtracted, such as a provider's fixed latency. */
  summary(offsetMillis = 0): {
    ok: number
    errors: number
    errorsByCause: Record<string, number>
    statuses: Record<string, number>
    latency: LatencySummary
    wireLatency: LatencySummary
    sendLag: LatencySummary
    failedAfter: LatencySummary
  } {
    return {
      ok: this.ok,
      errors: this.errors.total,
      errorsByCause: this.errors.byCause,
      statuses: this.statuses,
      latency: this.latency.summary(offsetMillis),
      wireLatency: this.wire.summary(offsetMillis),
      sendLag: this.sendLag.summary(),
      failedAfter: this.failedAfter.summary(),
    }
  }
}

const defaultAccept = (response: HttpResponse): string | undefined =>
  response.status >= 200 && response.status < 300 ? undefined : `status_${response.status}`

export interface LoopResult {
  /** Requests started. */
  readonly launched: number
  /** Seconds from the first send to the last completion. */
  readonly elapsedSeconds: number
  /** Requests still in flight when the drain time ran out. */
  readonly abandoned: number
}

/**
 * Starts `send(n, intendedAt)` at `rate` per second for `durationMillis`,
 * then waits up to `drainMillis` for the requests in flight.
 */
export const runOpenLoop = async (options: {
  readonly rate: number
  readonly durationMillis: number
  readonly drainMillis: number
  readonly send: (n: number, intendedAt: number) => Promise<unknown>
}): Promise<LoopResult> => {
  const { rate, durationMillis } = options
  const total = Math.round((rate * durationMillis) / 1000)
  let launched = 0
  let inFlight = 0
  const start = performance.now()
  const done = () => {
    inFlight--
  }
  while (launched < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1)
    while (launched < due) {
      inFlight++
      void options.send(launched, start + (launched * 1000) / rate).finally(done)
      launched++
    }
    await Bun.sleep(1)
  }
  const drainDeadline = performance.now() + options.drainMillis
  while (inFlight > 0 && performance.now() < drainDeadline) await Bun.sleep(2)
  return {
    launched,
    elapsedSeconds: round((performance.now() - start) / 1000, 3),
    abandoned: inFlight,
  }
}

/** Runs `workers` loops that each send, wait for the response and send again, for `durationMillis`. */
export const runClosedLoop = async (options: {
  readonly workers: number
  readonly durationMillis: number
  readonly send: (n: number, startedAt: number) => Promise<unknown>
}): Promise<LoopResult> => {
  let launched = 0
  const start = performance.now()
  const end = start + options.durationMillis
  const worker = async () => {
    while (performance.now() < end) {
      const n = launched++
      await options.send(n, performance.now())
    }
  }
  await Promise.all(Array.from({ length: options.workers }, worker))
  return {
    launched,
    elapsedSeconds: round((performance.now() - start) / 1000, 3),
    abandoned: 0,
  }
}

/** Runs `task(i)` for i in [0, count) with at most `parallel` running at once. */
export const runBounded = async (
  count: number,
  parallel: number,
  task: (index: number) => Promise<unknown>,
): Promise<number> => {
  const start = performance.now()
  let next = 0
  const worker = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker))
  return (performance.now() - start) / 1000
}
