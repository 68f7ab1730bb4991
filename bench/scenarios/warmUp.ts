/**
 * A short load before any measurement, discarded, so the first scenario does
 * not pay for JIT compilation, connection pools opening and lazy start-up
 * work. It touches the webhook route, connect sessions and the callback of
 * the service and of both floors.
 */
import { type BenchContext, measure } from "../lib/context.ts"
import { RequestStats, runBounded, runOpenLoop } from "../lib/drivers.ts"
import {
  completeCallback,
  createSession,
  type FlowTarget,
  floorFlowTarget,
  serviceFlowTarget,
} from "../lib/flows.ts"
import { Pool } from "../lib/http1.ts"
import { putGithubProvider, putOAuthProvider } from "../lib/service.ts"
import { makeWebhookRequests, signedPayloads } from "../lib/webhookPayloads.ts"
import { WEBHOOK_SECRET, webhookTargets } from "./webhooks.ts"

const warmWebhooks = async (context: BenchContext, port: number, path: string, seconds: number) => {
  const pool = new Pool({ host: "127.0.0.1", port, maxConnections: 64, timeoutMillis: 10_000 })
  const requestFor = makeWebhookRequests({
    path,
    host: `127.0.0.1:${port}`,
    payloads: signedPayloads(WEBHOOK_SECRET, 64),
    idPrefix: `${context.runId}-warm`,
    duplicateEvery: 0,
  })
  const stats = new RequestStats()
  await runOpenLoop({
    rate: 2_000,
    durationMillis: seconds * 1000,
    drainMillis: 5_000,
    send: (n, intendedAt) => stats.measure(pool, requestFor(n).bytes, intendedAt),
  })
  pool.close()
  return stats
}

const warmFlows = async (context: BenchContext, target: FlowTarget, count: number) => {
  const pool = new Pool({
    host: "127.0.0.1",
    port: target.port,
    maxConnections: 32,
    timeoutMillis: 30_000,
  })
  const stats = new RequestStats()
  await runBounded(count, 32, async (index) => {
    const state = await createSession(
      target,
      pool,
      stats,
      `bench-${context.runId}-warm-${index}`,
      performance.now(),
    )
    if (state !== undefined)
      await completeCallback(target, pool, stats, `warm-${index}`, state, performance.now())
  })
  pool.close()
  return stats
}

export const warmUp = async (context: BenchContext) => {
  const seconds = context.options.quick ? 1 : 5
  const flows = context.options.quick ? 100 : 300
  const webhookProvider = `bench-${context.runId}-warm`
  const flowProvider = `bench-${context.runId}-warmo`
  await putGithubProvider(context.service, webhookProvider, WEBHOOK_SECRET, context.provider.url)
  await putOAuthProvider(context.service, flowProvider, context.provider.url, 0)
  const { service, floor } = webhookTargets(context, webhookProvider)
  context.log(`warming up for about ${2 * seconds} s (not measured)`)
  const results = [
    await warmWebhooks(context, floor.server.port, floor.path, seconds),
    await warmWebhooks(context, service.server.port, service.path, seconds),
    await warmFlows(context, floorFlowTarget(context.callbackFloor.port), flows),
    await warmFlows(
      context,
      serviceFlowTarget({
        port: context.service.port,
        adminKey: context.service.adminKey,
        providerKey: flowProvider,
        redirectUrl: `${context.provider.url}/done`,
      }),
      flows,
    ),
  ]
  const failed = results.reduce((total, stats) => total + stats.errors.total, 0)
  if (failed > 0) context.notes.push(`The warm-up saw ${failed} failed requests.`)
}

/**
 * Measures the service's CPU and memory with no load for a few seconds
 * after the warm-up, which is what its background work (pollers, workers,
 * the analytics engine) costs before any request.
 */
export const measureIdle = async (context: BenchContext) => {
  const seconds = context.options.quick ? 2 : 5
  await Bun.sleep(1_000)
  const { cpu, peakRssMb, targetThreads } = await measure(context, context.service.child, () =>
    Bun.sleep(seconds * 1000),
  )
  context.measurements.push({
    scenario: "idle",
    target: "service",
    label: `no load for ${seconds} s`,
    generator: "bun open loop",
    connections: 0,
    seconds,
    requests: 0,
    ok: 0,
    errors: 0,
    errorsByCause: {},
    throughput: 0,
    latency: { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
    cpu,
    peakRssMb,
    targetThreads,
  })
  context.log(`  idle service: cpu ${cpu.percentOfCore.target}%, RSS ${peakRssMb} MB`)
}
