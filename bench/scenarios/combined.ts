/**
 * Combined load: webhooks at 5,000/s, OAuth flows at 100/s (200 ms provider)
 * and forced token refreshes at 100/s (20 ms provider), all at once against
 * the service. Its figure is the service's peak RSS (VmHWM, reset before the
 * load starts); the latencies of each part are recorded too.
 *
 * When the webhook scenarios measured a saturation throughput below
 * 5,000/s, webhooks are sent at 60 % of it instead. The figure is then the
 * memory of a load the service keeps up with, not of a backlog that grows
 * for the whole run.
 *
 * A first measurement sends a fifth of each rate (webhooks at most
 * 1,000/s, 20 flows/s, 20 refreshes/s). That load stayed well inside the
 * service's capacity on the development machine, so its peak RSS is that
 * of a steady state there.
 */
import { type BenchContext, measure, waitForIdle, waitForProviderQuiet } from "../lib/context.ts"
import { RequestStats, runOpenLoop } from "../lib/drivers.ts"
import { completeCallback, createSession, serviceFlowTarget } from "../lib/flows.ts"
import { Pool } from "../lib/http1.ts"
import { round } from "../lib/latency.ts"
import { memoryMb, resetPeakMemory } from "../lib/proc.ts"
import { putGithubProvider, putOAuthProvider } from "../lib/service.ts"
import { makeWebhookRequests, signedPayloads } from "../lib/webhookPayloads.ts"
import { FLOW_PROVIDER_LATENCY_MS } from "./oauthFlows.ts"
import { connectIntegrations, REFRESH_PROVIDER_LATENCY_MS, tokenRequest } from "./tokenRefresh.ts"
import { WEBHOOK_SECRET } from "./webhooks.ts"

const WEBHOOK_RATE = 5_000
const SATURATION_SHARE = 0.6

const webhookRate = (context: BenchContext): number => {
  const rounds = context.measurements
    .filter((m) => m.scenario === "webhook.saturation" && m.target === "service")
    .map((m) => m.throughput)
    .toSorted((a, b) => a - b)
  const median = rounds[Math.floor(rounds.length / 2)]
  if (median === undefined) return WEBHOOK_RATE
  return Math.min(WEBHOOK_RATE, Math.round((SATURATION_SHARE * median) / 100) * 100)
}
const FLOW_RATE = 100
const REFRESH_RATE = 100
/** The share of each rate in the steady-state measurement. */
const LIGHT_SHARE = 0.2

interface CombinedRates {
  readonly scenario: "combined" | "combined.light"
  readonly webhooks: number
  readonly flows: number
  readonly refreshes: number
}

export const runCombinedScenario = async (context: BenchContext) => {
  const rate = webhookRate(context)
  const webhookProvider = `bench-${context.runId}-ghc`
  const flowProvider = `bench-${context.runId}-oauthc`
  const refreshProvider = `bench-${context.runId}-refreshc`
  await putGithubProvider(context.service, webhookProvider, WEBHOOK_SECRET, context.provider.url)
  await putOAuthProvider(
    context.service,
    flowProvider,
    context.provider.url,
    FLOW_PROVIDER_LATENCY_MS,
  )
  await putOAuthProvider(
    context.service,
    refreshProvider,
    context.provider.url,
    REFRESH_PROVIDER_LATENCY_MS,
  )
  const ids = await connectIntegrations(
    context,
    refreshProvider,
    context.options.quick ? 50 : 200,
    "combined",
  )
  const refreshRequests = ids.map((id) => tokenRequest(context, id, true))
  const providers = { webhookProvider, flowProvider }
  // The lighter load first, so that its memory is not the heap the
  // overload left behind.
  await measureCombined(context, providers, refreshRequests, {
    scenario: "combined.light",
    webhooks: Math.round(rate * LIGHT_SHARE),
    flows: FLOW_RATE * LIGHT_SHARE,
    refreshes: REFRESH_RATE * LIGHT_SHARE,
  })
  await measureCombined(context, providers, refreshRequests, {
    scenario: "combined",
    webhooks: rate,
    flows: FLOW_RATE,
    refreshes: REFRESH_RATE,
  })
}

const measureCombined = async (
  context: BenchContext,
  providers: { readonly webhookProvider: string; readonly flowProvider: string },
  refreshRequests: ReadonlyArray<Uint8Array>,
  rates: CombinedRates,
) => {
  const seconds = context.options.quick ? 3 : 30
  const { webhookProvider, flowProvider } = providers
  const rate = rates.webhooks
  const tag = rates.scenario === "combined" ? "m" : "l"
  context.log(
    `${rates.scenario === "combined" ? "combined" : "lighter combined"} load for ${seconds} s: ` +
      `webhooks ${rate}/s, flows ${rates.flows}/s, refreshes ${rates.refreshes}/s`,
  )
  await waitForProviderQuiet(context)
  await waitForIdle(context.service.child.pid)
  const port = context.service.port
  const pool = new Pool({ host: "127.0.0.1", port, maxConnections: 1_024, timeoutMillis: 60_000 })
  await pool.warm(32)
  const requestFor = makeWebhookRequests({
    path: `/webhooks/${webhookProvider}`,
    host: `127.0.0.1:${port}`,
    payloads: signedPayloads(WEBHOOK_SECRET, 256),
    idPrefix: `${context.runId}-${tag}`,
    duplicateEvery: 0,
  })
  const flowTarget = serviceFlowTarget({
    port,
    adminKey: context.service.adminKey,
    providerKey: flowProvider,
    redirectUrl: `${context.provider.url}/done`,
  })
  const webhooks = new RequestStats()
  const sessions = new RequestStats()
  const callbacks = new RequestStats()
  const refreshes = new RequestStats()
  let connected = 0
  const durationMillis = seconds * 1000

  const clickhousePid = context.clickhouse?.child.pid
  if (clickhousePid !== undefined) resetPeakMemory(clickhousePid)
  const workerPid = context.worker?.pid
  if (workerPid !== undefined) resetPeakMemory(workerPid)
  const { cpu, peakRssMb, targetThreads } = await measure(context, context.service.child, () =>
    Promise.all([
      runOpenLoop({
        rate,
        durationMillis,
        drainMillis: 10_000,
        send: (n, intendedAt) => webhooks.measure(pool, requestFor(n).bytes, intendedAt),
      }),
      runOpenLoop({
        rate: rates.flows,
        durationMillis,
        drainMillis: 60_000,
        send: async (n, intendedAt) => {
          const state = await createSession(
            flowTarget,
            pool,
            sessions,
            `bench-${context.runId}-${tag}-${n}`,
            intendedAt,
          )
          if (state === undefined) return
          const outcome = await completeCallback(
            flowTarget,
            pool,
            callbacks,
            `code-${tag}-${n}`,
            state,
            performance.now(),
          )
          if (outcome.connected) connected++
        },
      }),
      runOpenLoop({
        rate: rates.refreshes,
        durationMillis,
        drainMillis: 30_000,
        send: (n, intendedAt) =>
          refreshes.measure(pool, refreshRequests[n % refreshRequests.length]!, intendedAt),
      }),
    ]),
  )
  pool.close()
  const webhookSummary = webhooks.summary()
  const callbackSummary = callbacks.summary()
  const refreshSummary = refreshes.summary()
  const requests =
    webhookSummary.ok + webhookSummary.errors + callbackSummary.ok + refreshSummary.ok
  context.measurements.push({
    scenario: rates.scenario,
    target: "service",
    label: `webhooks ${rate}/s + flows ${rates.flows}/s + refreshes ${rates.refreshes}/s`,
    generator: "bun open loop",
    connections: 1_024,
    seconds,
    requests,
    ok: webhookSummary.ok + connected + refreshSummary.ok,
    errors:
      webhookSummary.errors +
      callbackSummary.errors +
      sessions.errors.total +
      refreshSummary.errors,
    errorsByCause: {
      ...Object.fromEntries(
        Object.entries(webhookSummary.errorsByCause).map(([k, v]) => [`webhook_${k}`, v]),
      ),
      ...Object.fromEntries(
        Object.entries(callbackSummary.errorsByCause).map(([k, v]) => [`callback_${k}`, v]),
      ),
      ...Object.fromEntries(
        Object.entries(refreshSummary.errorsByCause).map(([k, v]) => [`refresh_${k}`, v]),
      ),
    },
    throughput: round(webhookSummary.ok / seconds, 1),
    latency: webhookSummary.latency,
    cpu,
    peakRssMb,
    targetThreads,
    extra: {
      rssAtEndMb: memoryMb(context.service.child.pid)?.current,
      clickhousePeakRssMb: clickhousePid === undefined ? undefined : memoryMb(clickhousePid)?.peak,
      workerPeakRssMb: workerPid === undefined ? undefined : memoryMb(workerPid)?.peak,
      flowsConnected: connected,
      callbackServiceTime: callbacks.latency.summary(FLOW_PROVIDER_LATENCY_MS),
      refreshServiceTime: refreshes.latency.summary(REFRESH_PROVIDER_LATENCY_MS),
    },
  })
  context.log(
    `  peak RSS ${peakRssMb} MB${workerPid === undefined ? "" : `, worker process ${memoryMb(workerPid)?.peak} MB`}${clickhousePid === undefined ? "" : ` (ClickHouse process ${memoryMb(clickhousePid)?.peak} MB)`}; webhook p99 ${webhookSummary.latency.p99} ms, ${connected} flows connected, ` +
      `refresh p95 ${refreshSummary.latency.p95} ms, cpu ${cpu.percentOfCore.target}%`,
  )
}
