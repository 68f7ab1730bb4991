/**
 * Token refresh through `POST /v1/integrations/{id}/token` with
 * `force_refresh`, spread over many integrations: at a fixed rate and at
 * saturation. Then 100 callers ask at once for the token of one integration
 * whose access token has expired; the provider must see exactly one refresh.
 * The provider responds after 20 ms, and service time is latency minus that.
 */
import { type BenchContext, measure, waitForIdle, waitForProviderQuiet } from "../lib/context.ts"
import { RequestStats, runBounded, runClosedLoop, runOpenLoop } from "../lib/drivers.ts"
import { completeCallback, createSession, serviceFlowTarget } from "../lib/flows.ts"
import { buildRequest, Pool } from "../lib/http1.ts"
import { round } from "../lib/latency.ts"
import { putOAuthProvider } from "../lib/service.ts"

export const REFRESH_PROVIDER_LATENCY_MS = 20
// The service bounds concurrent calls to one provider; more callers would only queue.
const SATURATION_WORKERS = 32
const SINGLE_FLIGHT_CALLERS = 100

/** Runs `count` flows against `providerKey` and returns the ids of the connected integrations. */
export const connectIntegrations = async (
  context: BenchContext,
  providerKey: string,
  count: number,
  codePrefix: string,
) => {
  const target = serviceFlowTarget({
    port: context.service.port,
    adminKey: context.service.adminKey,
    providerKey,
    redirectUrl: `${context.provider.url}/done`,
  })
  const pool = new Pool({
    host: "127.0.0.1",
    port: target.port,
    maxConnections: 32,
    timeoutMillis: 60_000,
  })
  const stats = new RequestStats()
  const ids: Array<string> = []
  await runBounded(count, 32, async (index) => {
    const organizationId = `bench-${context.runId}-${codePrefix}-${index}`
    const state = await createSession(target, pool, stats, organizationId, performance.now())
    if (state === undefined) return
    const code = `${codePrefix}-${context.runId}-${index}`
    const outcome = await completeCallback(target, pool, stats, code, state, performance.now())
    if (outcome.integrationId !== undefined) ids.push(outcome.integrationId)
  })
  pool.close()
  return ids
}

export const tokenRequest = (context: BenchContext, id: string, force: boolean) =>
  buildRequest(
    "POST",
    `/v1/integrations/${id}/token`,
    `127.0.0.1:${context.service.port}`,
    { authorization: `Bearer ${context.service.adminKey}`, "content-type": "application/json" },
    force ? '{"force_refresh":true}' : "{}",
  )

const record = (
  context: BenchContext,
  scenario: string,
  label: string,
  generator: "bun open loop" | "bun closed loop",
  stats: RequestStats,
  loop: { launched: number; elapsedSeconds: number; abandoned: number },
  measured: {
    cpu: import("../lib/proc.ts").CpuUsage
    peakRssMb: number | undefined
    targetThreads: Record<string, number>
  },
  connections: number,
  offeredRate?: number,
) => {
  const summary = stats.summary()
  context.measurements.push({
    scenario,
    target: "service",
    label,
    generator,
    offeredRate,
    connections,
    seconds: loop.elapsedSeconds,
    requests: loop.launched,
    ok: summary.ok,
    errors: summary.errors + loop.abandoned,
    errorsByCause: summary.errorsByCause,
    statuses: summary.statuses,
    throughput: round(summary.ok / loop.elapsedSeconds, 1),
    latency: summary.latency,
    serviceTime: stats.latency.summary(REFRESH_PROVIDER_LATENCY_MS),
    cpu: measured.cpu,
    peakRssMb: measured.peakRssMb,
    targetThreads: measured.targetThreads,
  })
  context.log(
    `  ${label}: ${round(summary.ok / loop.elapsedSeconds, 0)}/s, p95 ${summary.latency.p95} ms, ` +
      `errors ${summary.errors}, cpu ${measured.cpu.percentOfCore.target}%`,
  )
}

const singleFlight = async (context: BenchContext, providerKey: string) => {
  const [id] = await connectIntegrations(context, providerKey, 1, "short")
  if (id === undefined)
    throw new Error("could not connect the integration for the single-flight check")

  // The provider gave this integration a token that expires after 1 second.
  await Bun.sleep(1_500)
  await waitForIdle(context.service.child.pid)

  const pool = new Pool({
    host: "127.0.0.1",
    port: context.service.port,
    maxConnections: SINGLE_FLIGHT_CALLERS,
    timeoutMillis: 30_000,
  })
  await pool.warm(SINGLE_FLIGHT_CALLERS)
  const stats = new RequestStats()
  const tokens = new Set<string>()
  const request = tokenRequest(context, id, false)
  const {
    result: seconds,
    cpu,
    peakRssMb,
    targetThreads,
  } = await measure(context, context.service.child, async () => {
    const start = performance.now()
    await Promise.all(
      Array.from({ length: SINGLE_FLIGHT_CALLERS }, async () => {
        const response = await stats.measure(pool, request, start)
        if (response?.status === 200) {
          tokens.add(
            (JSON.parse(response.body.toString("utf8")) as { access_token: string }).access_token,
          )
        }
      }),
    )
    return (performance.now() - start) / 1000
  })
  pool.close()

  // The fake provider issued the refresh token `rt-<code>` for the code `short-<run>-0`.
  const refreshToken = encodeURIComponent(`rt-short-${context.runId}-0`)
  const statsResponse = await fetch(`${context.provider.url}/stats?refresh_token=${refreshToken}`)
  const providerStats = (await statsResponse.json()) as { refreshes_of_token: number }
  const summary = stats.summary()
  context.measurements.push({
    scenario: "refresh.single_flight",
    target: "service",
    label: `${SINGLE_FLIGHT_CALLERS} callers, one expired integration`,
    generator: "bun burst",
    connections: SINGLE_FLIGHT_CALLERS,
    seconds: round(seconds, 3),
    requests: SINGLE_FLIGHT_CALLERS,
    ok: summary.ok,
    errors: summary.errors,
    errorsByCause: summary.errorsByCause,
    statuses: summary.statuses,
    throughput: round(summary.ok / seconds, 1),
    latency: summary.latency,
    cpu,
    peakRssMb,
    targetThreads,
    extra: {
      providerRefreshCalls: providerStats.refreshes_of_token,
      distinctAccessTokens: tokens.size,
    },
  })
  context.log(
    `  ${SINGLE_FLIGHT_CALLERS} callers on one expired integration: ${providerStats.refreshes_of_token} ` +
      `provider refresh call(s), ${tokens.size} distinct token(s), ${summary.ok} got 200`,
  )
}

export const runTokenRefreshScenarios = async (context: BenchContext) => {
  const { quick } = context.options
  const providerKey = `bench-${context.runId}-refresh`
  await putOAuthProvider(
    context.service,
    providerKey,
    context.provider.url,
    REFRESH_PROVIDER_LATENCY_MS,
  )

  const count = quick ? 100 : 2_000
  context.log(
    `token refresh: connecting ${count} integrations (provider latency ${REFRESH_PROVIDER_LATENCY_MS} ms)`,
  )
  const ids = await connectIntegrations(context, providerKey, count, "refresh")
  if (ids.length === 0)
    throw new Error("no integration could be connected for the refresh scenarios")
  const requests = ids.map((id) => tokenRequest(context, id, true))

  const rate = quick ? 100 : 200
  const seconds = quick ? 3 : 20
  await waitForProviderQuiet(context)
  await waitForIdle(context.service.child.pid)
  const sustainedPool = new Pool({
    host: "127.0.0.1",
    port: context.service.port,
    maxConnections: 512,
    timeoutMillis: 30_000,
  })
  await sustainedPool.warm(8)
  const sustained = new RequestStats()
  const sustainedRun = await measure(context, context.service.child, () =>
    runOpenLoop({
      rate,
      durationMillis: seconds * 1000,
      drainMillis: 30_000,
      send: (n, intendedAt) =>
        sustained.measure(sustainedPool, requests[n % requests.length]!, intendedAt),
    }),
  )
  const sustainedConnections = sustainedPool.size
  sustainedPool.close()
  record(
    context,
    "refresh.sustained",
    `${rate}/s`,
    "bun open loop",
    sustained,
    sustainedRun.result,
    sustainedRun,
    sustainedConnections,
    rate,
  )

  await waitForProviderQuiet(context)
  await waitForIdle(context.service.child.pid)
  const saturatedPool = new Pool({
    host: "127.0.0.1",
    port: context.service.port,
    maxConnections: SATURATION_WORKERS,
    timeoutMillis: 30_000,
  })
  await saturatedPool.warm(SATURATION_WORKERS)
  const saturated = new RequestStats()
  const saturatedRun = await measure(context, context.service.child, () =>
    runClosedLoop({
      workers: SATURATION_WORKERS,
      durationMillis: (quick ? 3 : 10) * 1000,
      send: (n, startedAt) =>
        saturated.measure(saturatedPool, requests[n % requests.length]!, startedAt),
    }),
  )
  saturatedPool.close()
  record(
    context,
    "refresh.saturation",
    `${SATURATION_WORKERS} callers`,
    "bun closed loop",
    saturated,
    saturatedRun.result,
    saturatedRun,
    SATURATION_WORKERS,
  )

  await singleFlight(context, providerKey)
}
