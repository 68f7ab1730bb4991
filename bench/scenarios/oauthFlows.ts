/**
 * OAuth flows against a provider whose token endpoint responds after 200 ms.
 * Many flows are in flight at once: all sessions are created first, then
 * every callback is sent at the same moment on its own connection, as
 * separate browsers would. Other flows start at fixed rates (sustained and
 * burst).
 * Callback service time is the callback latency minus the provider latency.
 * Each load runs against the callback floor and then the service.
 */
import { type BenchContext, measure, waitForIdle, waitForProviderQuiet } from "../lib/context.ts"
import { RequestStats, runBounded, runOpenLoop } from "../lib/drivers.ts"
import {
  completeCallback,
  createSession,
  type FlowTarget,
  floorFlowTarget,
  serviceFlowTarget,
} from "../lib/flows.ts"
import { Pool } from "../lib/http1.ts"
import { LatencyRecorder, round } from "../lib/latency.ts"
import { putOAuthProvider } from "../lib/service.ts"

export const FLOW_PROVIDER_LATENCY_MS = 200
// Long enough for the last of 10,000 callbacks queued behind a per-provider bound.
const CALLBACK_TIMEOUT_MS = 300_000

let batch = 0

const concurrentFlows = async (context: BenchContext, target: FlowTarget, count: number) => {
  const child = target.kind === "service" ? context.service.child : context.callbackFloor.child
  await waitForProviderQuiet(context)
  await waitForIdle(child.pid)
  const prefix = `bench-${context.runId}-c${batch++}`

  const sessionPool = new Pool({
    host: "127.0.0.1",
    port: target.port,
    maxConnections: 64,
    timeoutMillis: 30_000,
  })
  const sessionStats = new RequestStats()
  const states: Array<string | undefined> = new Array(count)
  const sessionSeconds = await runBounded(count, 64, async (index) => {
    states[index] = await createSession(
      target,
      sessionPool,
      sessionStats,
      `${prefix}-${index}`,
      performance.now(),
    )
  })
  sessionPool.close()
  const sessions = sessionStats.summary()
  context.log(
    `  ${target.kind.padEnd(7)} ${count} sessions in ${round(sessionSeconds, 1)} s ` +
      `(${round(sessions.ok / sessionSeconds, 0)}/s, p99 ${sessions.latency.p99} ms)`,
  )

  // Every callback gets its own connection, opened before the clock starts.
  const pool = new Pool({
    host: "127.0.0.1",
    port: target.port,
    maxConnections: count,
    timeoutMillis: CALLBACK_TIMEOUT_MS,
  })
  await pool.warm(count, 500)
  const stats = new RequestStats()
  let connected = 0
  const {
    result: seconds,
    cpu,
    peakRssMb,
    targetThreads,
  } = await measure(context, child, async () => {
    const start = performance.now()
    await Promise.all(
      states.map(async (state, index) => {
        if (state === undefined) return
        const outcome = await completeCallback(
          target,
          pool,
          stats,
          `code-${prefix}-${index}`,
          state,
          start,
        )
        if (outcome.connected) connected++
      }),
    )
    return (performance.now() - start) / 1000
  })
  pool.close()
  const summary = stats.summary()
  context.measurements.push({
    scenario: "oauth.concurrent",
    target: target.kind,
    label: `${count} in flight`,
    generator: "bun burst",
    connections: count,
    seconds: round(seconds, 3),
    requests: count,
    ok: connected,
    errors: count - connected,
    errorsByCause: {
      ...summary.errorsByCause,
      ...(sessions.errors > 0 ? { session_failed: sessions.errors } : {}),
    },
    statuses: summary.statuses,
    throughput: round(connected / seconds, 1),
    latency: summary.latency,
    serviceTime: stats.latency.summary(FLOW_PROVIDER_LATENCY_MS),
    cpu,
    peakRssMb,
    targetThreads,
    extra: {
      successPercent: round((100 * connected) / count, 3),
      failedAfter: summary.failedAfter,
      sessionsPerSecond: round(sessions.ok / sessionSeconds, 1),
      sessionLatency: sessions.latency,
    },
  })
  context.log(
    `  ${target.kind.padEnd(7)} ${count} callbacks at once: ${connected} connected in ${round(seconds, 1)} s, ` +
      `p95 ${summary.latency.p95} ms, cpu ${cpu.percentOfCore.target}%`,
  )
}

const flowsAtRate = async (
  context: BenchContext,
  scenario: string,
  target: FlowTarget,
  rate: number,
  seconds: number,
) => {
  const child = target.kind === "service" ? context.service.child : context.callbackFloor.child
  const waited = await waitForProviderQuiet(context)
  if (waited > 5)
    context.log(`  waited ${Math.round(waited)} s for callbacks still queued in the ${target.kind}`)
  await waitForIdle(child.pid)
  const prefix = `bench-${context.runId}-r${batch++}`
  const pool = new Pool({
    host: "127.0.0.1",
    port: target.port,
    maxConnections: 2_000,
    timeoutMillis: 60_000,
  })
  await pool.warm(16)
  const sessionStats = new RequestStats()
  const callbackStats = new RequestStats()
  const flowLatency = new LatencyRecorder()
  let connected = 0

  const { result, cpu, peakRssMb, targetThreads } = await measure(context, child, () =>
    runOpenLoop({
      rate,
      durationMillis: seconds * 1000,
      drainMillis: 60_000,
      send: async (n, intendedAt) => {
        const state = await createSession(target, pool, sessionStats, `${prefix}-${n}`, intendedAt)
        if (state === undefined) return
        const outcome = await completeCallback(
          target,
          pool,
          callbackStats,
          `code-${prefix}-${n}`,
          state,
          performance.now(),
        )
        if (!outcome.connected) return
        connected++
        flowLatency.record(performance.now() - intendedAt)
      },
    }),
  )
  const connections = pool.size
  pool.close()
  const callbacks = callbackStats.summary()
  const sessions = sessionStats.summary()
  context.measurements.push({
    scenario,
    target: target.kind,
    label: `${rate} flows/s`,
    generator: "bun open loop",
    offeredRate: rate,
    connections,
    seconds: result.elapsedSeconds,
    requests: result.launched,
    ok: connected,
    errors: result.launched - connected,
    errorsByCause: {
      ...callbacks.errorsByCause,
      ...(sessions.errors > 0 ? { session_failed: sessions.errors } : {}),
      ...(result.abandoned > 0 ? { abandoned: result.abandoned } : {}),
    },
    statuses: callbacks.statuses,
    throughput: round(connected / seconds, 1),
    latency: callbacks.latency,
    serviceTime: callbackStats.latency.summary(FLOW_PROVIDER_LATENCY_MS),
    cpu,
    peakRssMb,
    targetThreads,
    extra: { sessionLatency: sessions.latency, flowLatency: flowLatency.summary() },
  })
  context.log(
    `  ${target.kind.padEnd(7)} ${rate} flows/s: ${connected}/${result.launched} connected, callback p95 ` +
      `${callbacks.latency.p95} ms (provider latency included), cpu ${cpu.percentOfCore.target}%`,
  )
}

export const runOAuthFlowScenarios = async (context: BenchContext) => {
  const { quick } = context.options
  const providerKey = `bench-${context.runId}-oauth`
  await putOAuthProvider(
    context.service,
    providerKey,
    context.provider.url,
    FLOW_PROVIDER_LATENCY_MS,
  )
  const service = serviceFlowTarget({
    port: context.service.port,
    adminKey: context.service.adminKey,
    providerKey,
    redirectUrl: `${context.provider.url}/done`,
  })
  const floor = floorFlowTarget(context.callbackFloor.port)

  const count = quick ? 500 : 10_000
  context.log(
    `OAuth flows: ${count} in flight at once, provider latency ${FLOW_PROVIDER_LATENCY_MS} ms`,
  )
  await concurrentFlows(context, floor, count)
  await concurrentFlows(context, service, count)

  context.log("OAuth flows at fixed rates")
  const rates: Array<[string, number, number]> = quick
    ? [
        ["oauth.sustained", 100, 3],
        ["oauth.burst", 500, 1],
      ]
    : [
        ["oauth.sustained", 100, 30],
        ["oauth.rate", 250, 10],
        ["oauth.burst", 500, 5],
      ]
  for (const [scenario, rate, seconds] of rates) {
    await flowsAtRate(context, scenario, floor, rate, seconds)
    await flowsAtRate(context, scenario, service, rate, seconds)
  }
}
