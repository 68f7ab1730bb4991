/**
 * Analytics lag: how long after the service acknowledged a webhook the event
 * shows up in `GET /v1/analytics/webhooks` (the sum of `accepted` over the
 * minute buckets of the provider), at 5,000 events/s. A poller reads the
 * aggregates every 100 ms. The k-th acknowledged event counts as visible at
 * the end of the first poll whose sum reached k. The figure is therefore an
 * upper bound, too high by at most one poll interval plus one query.
 */
import { type BenchContext, measure, waitForIdle } from "../lib/context.ts"
import { RequestStats, runOpenLoop } from "../lib/drivers.ts"
import { Pool } from "../lib/http1.ts"
import { LatencyRecorder, round } from "../lib/latency.ts"
import { putGithubProvider } from "../lib/service.ts"
import { makeWebhookRequests, signedPayloads } from "../lib/webhookPayloads.ts"
import { WEBHOOK_SECRET } from "./webhooks.ts"

const POLL_INTERVAL_MS = 100
const RATE = 5_000

interface Poll {
  readonly at: number
  readonly accepted: number
  readonly received: number
}

type Row = { readonly received?: number; readonly accepted?: number }

const sumRows = (body: unknown): { accepted: number; received: number } => {
  const rows: ReadonlyArray<Row> = Array.isArray(body)
    ? body
    : Array.isArray((body as { data?: unknown }).data)
      ? (body as { data: ReadonlyArray<Row> }).data
      : []
  let accepted = 0
  let received = 0
  for (const row of rows) {
    accepted += Number(row.accepted ?? 0)
    received += Number(row.received ?? 0)
  }
  return { accepted, received }
}

const queryUrl = (context: BenchContext, provider: string, from: Date) => {
  const to = new Date(Date.now() + 120_000)
  const params = new URLSearchParams({
    from: from.toISOString(),
    to: to.toISOString(),
    interval: "minute",
    provider,
  })
  return `${context.service.baseUrl}/v1/analytics/webhooks?${params}`
}

const query = async (context: BenchContext, provider: string, from: Date) => {
  const response = await fetch(queryUrl(context, provider, from), {
    headers: { authorization: `Bearer ${context.service.adminKey}` },
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  return { status: response.status, text }
}

export const runAnalyticsScenario = async (context: BenchContext) => {
  const providerKey = `bench-${context.runId}-gha`
  await putGithubProvider(context.service, providerKey, WEBHOOK_SECRET, context.provider.url)
  const from = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000)
  const probe = await query(context, providerKey, from)
  if (probe.status === 404) {
    context.skipped.push({
      scenario: "analytics.lag",
      reason:
        "GET /v1/analytics/webhooks returned 404: the analytics route is not in the service yet.",
    })
    context.log("analytics lag: skipped, the route answered 404")
    return
  }
  if (probe.status !== 200) {
    throw new Error(
      `GET /v1/analytics/webhooks returned ${probe.status}: ${probe.text.slice(0, 300)}`,
    )
  }

  const seconds = context.options.quick ? 3 : 20
  context.log(`analytics lag at ${RATE}/s for ${seconds} s`)
  await waitForIdle(context.service.child.pid)
  const pool = new Pool({
    host: "127.0.0.1",
    port: context.service.port,
    maxConnections: 256,
    timeoutMillis: 10_000,
  })
  await pool.warm(8)
  const requestFor = makeWebhookRequests({
    path: `/webhooks/${providerKey}`,
    host: `127.0.0.1:${context.service.port}`,
    payloads: signedPayloads(WEBHOOK_SECRET, 256),
    idPrefix: `${context.runId}-a`,
    duplicateEvery: 0,
  })
  const stats = new RequestStats()
  const acks: Array<number> = []
  const polls: Array<Poll> = []
  let loadDone = false
  let pollErrors = 0

  const poller = async () => {
    const deadline = () => (loadDone ? lastAck() + 30_000 : Number.POSITIVE_INFINITY)
    const lastAck = () => acks[acks.length - 1] ?? performance.now()
    while (performance.now() < deadline()) {
      const started = performance.now()
      try {
        const result = await query(context, providerKey, from)
        if (result.status === 200) {
          polls.push({ at: performance.now(), ...sumRows(JSON.parse(result.text)) })
        } else {
          pollErrors++
        }
      } catch {
        pollErrors++
      }
      if (loadDone && (polls[polls.length - 1]?.accepted ?? 0) >= acks.length) break
      await Bun.sleep(Math.max(0, POLL_INTERVAL_MS - (performance.now() - started)))
    }
  }

  const { result, cpu, peakRssMb, targetThreads } = await measure(
    context,
    context.service.child,
    async () => {
      const polling = poller()
      const loop = await runOpenLoop({
        rate: RATE,
        durationMillis: seconds * 1000,
        drainMillis: 10_000,
        send: async (n, intendedAt) => {
          const response = await stats.measure(pool, requestFor(n).bytes, intendedAt)
          if (response?.status === 200) acks.push(performance.now())
        },
      })
      loadDone = true
      await polling
      return loop
    },
  )
  pool.close()

  acks.sort((a, b) => a - b)
  const lag = new LatencyRecorder()
  let pollIndex = 0
  let missing = 0
  for (let k = 0; k < acks.length; k++) {
    while (pollIndex < polls.length && polls[pollIndex]!.accepted < k + 1) pollIndex++
    const poll = polls[pollIndex]
    if (poll === undefined) {
      missing = acks.length - k
      break
    }
    lag.record(Math.max(0, poll.at - acks[k]!))
  }
  const final = polls[polls.length - 1]
  const summary = stats.summary()
  context.measurements.push({
    scenario: "analytics.lag",
    target: "service",
    label: `${RATE}/s`,
    generator: "bun open loop",
    offeredRate: RATE,
    connections: 256,
    seconds: result.elapsedSeconds,
    requests: result.launched,
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
      lag: lag.summary(),
      pollIntervalMs: POLL_INTERVAL_MS,
      polls: polls.length,
      pollErrors,
      acknowledged: acks.length,
      countedAccepted: final?.accepted ?? 0,
      countedReceived: final?.received ?? 0,
      neverCounted: missing,
    },
  })
  const lagSummary = lag.summary()
  context.log(
    `  lag p50 ${lagSummary.p50} ms, p99 ${lagSummary.p99} ms; ${acks.length} acknowledged, ` +
      `${final?.accepted ?? 0} counted, ${missing} never counted`,
  )
}
