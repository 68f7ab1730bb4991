/**
 * The project's performance goals, each evaluated against the measurements
 * of one run. A goal is recorded as met, missed or not measured, and
 * `bun run bench` exits 0 whether goals are met or not.
 */
import type { Measurement } from "./context.ts"
import { round } from "./latency.ts"

export interface GoalResult {
  readonly goal: string
  readonly measured: string
  /** The floor's figure and the ratio, where the goal has a floor. */
  readonly floor: string | undefined
  readonly met: boolean | undefined
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const find = (
  measurements: ReadonlyArray<Measurement>,
  scenario: string,
  target = "service",
  label?: string,
) =>
  measurements.find(
    (m) =>
      m.scenario === scenario && m.target === target && (label === undefined || m.label === label),
  )

const notMeasured = (goal: string): GoalResult => ({
  goal,
  measured: "not measured",
  floor: undefined,
  met: undefined,
})

export const evaluateGoals = (measurements: ReadonlyArray<Measurement>): Array<GoalResult> => {
  const goals: Array<GoalResult> = []

  const rounds = (target: string) =>
    measurements
      .filter((m) => m.scenario === "webhook.saturation" && m.target === target)
      .map((m) => m.throughput)
  const serviceRounds = rounds("service")
  const floorRounds = rounds("floor")
  if (serviceRounds.length > 0 && floorRounds.length > 0) {
    const ratio = median(serviceRounds) / median(floorRounds)
    goals.push({
      goal: "webhook ingest throughput ≥ 0.5 × webhook floor",
      measured: `${round(median(serviceRounds), 0)}/s (median of ${serviceRounds.length} round(s): ${serviceRounds.map((v) => round(v, 0)).join(", ")})`,
      floor: `${round(median(floorRounds), 0)}/s; ratio ${round(ratio, 2)}`,
      met: ratio >= 0.5,
    })
  } else {
    goals.push(notMeasured("webhook ingest throughput ≥ 0.5 × webhook floor"))
  }

  const at5000 = find(measurements, "webhook.fixed_rate", "service", "5000/s")
  const floor5000 = find(measurements, "webhook.fixed_rate", "floor", "5000/s")
  goals.push(
    at5000 === undefined
      ? notMeasured("webhook ack p99 ≤ 5 ms at 5,000/s")
      : {
          goal: "webhook ack p99 ≤ 5 ms at 5,000/s",
          measured: `p99 ${at5000.latency.p99} ms from the intended send time (${at5000.wireLatency?.p99 ?? "?"} ms from the actual send), ${at5000.errors} errors`,
          floor:
            floor5000 === undefined
              ? undefined
              : `p99 ${floor5000.latency.p99} ms (${floor5000.wireLatency?.p99 ?? "?"} ms)`,
          met: at5000.latency.p99 <= 5 && at5000.errors === 0,
        },
  )

  const sustained = find(measurements, "oauth.sustained")
  const sustainedFloor = find(measurements, "oauth.sustained", "floor")
  goals.push(
    sustained?.serviceTime === undefined
      ? notMeasured("OAuth callback p95 ≤ 5 ms of service time")
      : {
          goal: "OAuth callback p95 ≤ 5 ms of service time",
          measured: `p95 ${sustained.serviceTime.p95} ms at ${sustained.label}`,
          floor:
            sustainedFloor?.serviceTime === undefined
              ? undefined
              : `p95 ${sustainedFloor.serviceTime.p95} ms`,
          met: sustained.serviceTime.p95 <= 5,
        },
  )

  const concurrent = find(measurements, "oauth.concurrent")
  const concurrentFloor = find(measurements, "oauth.concurrent", "floor")
  const percent = (m: Measurement | undefined) =>
    (m?.extra?.successPercent as number | undefined) ?? 0
  goals.push(
    concurrent === undefined
      ? notMeasured("≥ 99.9 % of the concurrent OAuth flows succeed")
      : {
          goal: `≥ 99.9 % of ${concurrent.requests} concurrent OAuth flows succeed`,
          measured: `${percent(concurrent)} % (${concurrent.ok}/${concurrent.requests}) in ${concurrent.seconds} s, service time p95 ${concurrent.serviceTime?.p95} ms`,
          floor:
            concurrentFloor === undefined
              ? undefined
              : `${percent(concurrentFloor)} % in ${concurrentFloor.seconds} s, p95 ${concurrentFloor.serviceTime?.p95} ms`,
          met: percent(concurrent) >= 99.9,
        },
  )

  const refresh = find(measurements, "refresh.sustained")
  goals.push(
    refresh?.serviceTime === undefined
      ? notMeasured("token refresh p95 ≤ 5 ms of service time")
      : {
          goal: "token refresh p95 ≤ 5 ms of service time",
          measured: `p95 ${refresh.serviceTime.p95} ms at ${refresh.label}`,
          floor: undefined,
          met: refresh.serviceTime.p95 <= 5 && refresh.errors === 0,
        },
  )

  const single = find(measurements, "refresh.single_flight")
  const calls = single?.extra?.providerRefreshCalls as number | undefined
  goals.push(
    single === undefined
      ? notMeasured("exactly one provider call for 100 concurrent callers")
      : {
          goal: "exactly one provider call for 100 concurrent callers",
          measured: `${calls} call(s); ${single.ok}/${single.requests} callers got a token`,
          floor: undefined,
          met: calls === 1 && single.ok === single.requests,
        },
  )

  const analytics = find(measurements, "analytics.lag")
  const lag = analytics?.extra?.lag as { p50: number; p99: number } | undefined
  goals.push(
    lag === undefined
      ? notMeasured("analytics lag p99 ≤ 2 s at 5,000 events/s")
      : {
          goal: "analytics lag p99 ≤ 2 s at 5,000 events/s",
          measured: `p50 ${round(lag.p50 / 1000, 2)} s, p99 ${round(lag.p99 / 1000, 2)} s; ${analytics?.extra?.neverCounted} never counted`,
          floor: undefined,
          met: lag.p99 <= 2_000 && analytics?.extra?.neverCounted === 0,
        },
  )

  const combined = find(measurements, "combined")
  goals.push(
    combined?.peakRssMb === undefined
      ? notMeasured("peak RSS ≤ 250 MB under combined load")
      : {
          goal: "peak RSS ≤ 250 MB under combined load",
          measured:
            `${combined.peakRssMb} MB` +
            (combined.extra?.workerPeakRssMb === undefined
              ? ""
              : `, plus ${combined.extra.workerPeakRssMb} MB in the worker process`) +
            (combined.extra?.clickhousePeakRssMb === undefined
              ? ""
              : ` (ClickHouse in its own process: ${combined.extra.clickhousePeakRssMb} MB more)`),
          floor: undefined,
          met: combined.peakRssMb + Number(combined.extra?.workerPeakRssMb ?? 0) <= 250,
        },
  )
  return goals
}
