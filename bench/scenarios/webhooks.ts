/**
 * Webhook ingest: GitHub-signed `push` deliveries with unique delivery ids,
 * sent at fixed rates (open loop) and at saturation (closed loop), plus a
 * mix in which every tenth delivery repeats an accepted id. Each load runs
 * against the webhook floor and then against the service, back to back, so
 * both see the same machine. Saturation alternates them for several rounds.
 */
import { type BenchContext, measure, type Server, waitForIdle } from "../lib/context.ts"
import { RequestStats, runClosedLoop, runOpenLoop } from "../lib/drivers.ts"
import { Pool } from "../lib/http1.ts"
import { round } from "../lib/latency.ts"
import { putGithubProvider, webhookCounters } from "../lib/service.ts"
import { makeWebhookRequests, type SignedPayload, signedPayloads } from "../lib/webhookPayloads.ts"
import { runWrkWebhooks } from "../lib/wrk.ts"

export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef"
const OPEN_LOOP_CONNECTIONS = 256
const SATURATION_CONNECTIONS = 32
// A target past this p99 (or with over 1 % failures) is overloaded, and higher rates are not sent to it.
const OVERLOAD_P99_MS = 1_000

interface Target {
  readonly kind: "service" | "floor"
  readonly server: Server
  readonly path: string
}

export const webhookTargets = (context: BenchContext, providerKey: string) => {
  const service: Target = {
    kind: "service",
    server: {
      child: context.service.child,
      port: context.service.port,
      url: context.service.baseUrl,
    },
    path: `/webhooks/${providerKey}`,
  }
  const floor: Target = { kind: "floor", server: context.webhookFloor, path: "/webhooks/floor" }
  return { service, floor }
}

let sequence = 0

/** Sends webhooks at `rate` per second for `seconds` and records one measurement. */
export const webhookOpenLoop = async (
  context: BenchContext,
  scenario: string,
  target: Target,
  payloads: ReadonlyArray<SignedPayload>,
  rate: number,
  seconds: number,
  duplicateEvery = 0,
) => {
  const { server } = target
  if (target.kind === "service") await waitForIdle(server.child.pid)
  const pool = new Pool({
    host: "127.0.0.1",
    port: server.port,
    maxConnections: OPEN_LOOP_CONNECTIONS,
    timeoutMillis: 10_000,
  })
  await pool.warm(8)
  const requestFor = makeWebhookRequests({
    path: target.path,
    host: `127.0.0.1:${server.port}`,
    payloads,
    idPrefix: `${context.runId}-o${sequence++}`,
    duplicateEvery,
  })
  const stats = new RequestStats()
  const { result, cpu, peakRssMb, targetThreads } = await measure(context, server.child, () =>
    runOpenLoop({
      rate,
      durationMillis: seconds * 1000,
      drainMillis: 10_000,
      send: (n, intendedAt) => stats.measure(pool, requestFor(n).bytes, intendedAt),
    }),
  )
  const connections = pool.size
  pool.close()
  const summary = stats.summary()
  context.measurements.push({
    scenario,
    target: target.kind,
    label: `${rate}/s${duplicateEvery > 0 ? " with duplicates" : ""}`,
    generator: "bun open loop",
    offeredRate: rate,
    connections,
    seconds: result.elapsedSeconds,
    requests: result.launched,
    ok: summary.ok,
    errors: summary.errors + result.abandoned,
    errorsByCause: {
      ...summary.errorsByCause,
      ...(result.abandoned > 0 ? { abandoned: result.abandoned } : {}),
    },
    statuses: summary.statuses,
    throughput: round(summary.ok / seconds, 1),
    latency: summary.latency,
    wireLatency: summary.wireLatency,
    sendLag: summary.sendLag,
    cpu,
    peakRssMb,
    targetThreads,
  })
  context.log(
    `  ${target.kind.padEnd(7)} ${rate}/s: p50 ${summary.latency.p50} ms, p99 ${summary.latency.p99} ms, ` +
      `errors ${summary.errors}, cpu ${cpu.percentOfCore.target}%`,
  )
  const failed = summary.errors + result.abandoned
  return { overloaded: summary.latency.p99 > OVERLOAD_P99_MS || failed > result.launched / 100 }
}

/** Drives the target as fast as it responds, with wrk when installed and the Bun generator otherwise. */
export const webhookSaturation = async (
  context: BenchContext,
  scenario: string,
  target: Target,
  payloads: ReadonlyArray<SignedPayload>,
  seconds: number,
  label: string,
  duplicateEvery = 0,
) => {
  const { server } = target
  if (target.kind === "service") await waitForIdle(server.child.pid)
  const idPrefix = `${context.runId}-s${sequence++}`
  if (context.wrk !== undefined) {
    const wrk = context.wrk
    const { result, cpu, peakRssMb, targetThreads } = await measure(context, server.child, () =>
      runWrkWebhooks({
        wrk,
        url: `${server.url}${target.path}`,
        host: `127.0.0.1:${server.port}`,
        path: target.path,
        payloads,
        idPrefix,
        duplicateEvery,
        connections: SATURATION_CONNECTIONS,
        threads: 1,
        seconds,
        workDir: context.workDir,
        name: `${scenario}-${target.kind}-${sequence}`,
      }),
    )
    context.measurements.push({
      scenario,
      target: target.kind,
      label,
      generator: "wrk",
      connections: SATURATION_CONNECTIONS,
      seconds: result.seconds,
      requests: result.requests,
      ok: result.requests - result.errors.status!,
      errors: result.errorTotal,
      errorsByCause: result.errors,
      throughput: result.throughput,
      latency: { count: result.requests, ...result.latency },
      // wrk exits before the meter stops, so its CPU comes from its resource usage.
      cpu: {
        ...cpu,
        otherSeconds: round(Math.max(0, cpu.otherSeconds - result.cpuSeconds), 2),
        otherPercentOfCore: round(
          Math.max(0, cpu.otherPercentOfCore - (100 * result.cpuSeconds) / result.seconds),
          1,
        ),
        seconds: { ...cpu.seconds, generator: result.cpuSeconds },
        percentOfCore: {
          ...cpu.percentOfCore,
          generator: round((100 * result.cpuSeconds) / result.seconds, 1),
        },
      },
      peakRssMb,
      targetThreads,
      extra: { duplicatesSent: result.duplicatesSent },
    })
    context.log(
      `  ${target.kind.padEnd(7)} ${label}: ${result.throughput}/s, p99 ${result.latency.p99} ms, ` +
        `errors ${result.errorTotal}, cpu ${cpu.percentOfCore.target}%`,
    )
    return result.throughput
  }

  const pool = new Pool({
    host: "127.0.0.1",
    port: server.port,
    maxConnections: SATURATION_CONNECTIONS,
    timeoutMillis: 10_000,
  })
  await pool.warm(SATURATION_CONNECTIONS)
  const requestFor = makeWebhookRequests({
    path: target.path,
    host: `127.0.0.1:${server.port}`,
    payloads,
    idPrefix,
    duplicateEvery,
  })
  const stats = new RequestStats()
  const { result, cpu, peakRssMb, targetThreads } = await measure(context, server.child, () =>
    runClosedLoop({
      workers: SATURATION_CONNECTIONS,
      durationMillis: seconds * 1000,
      send: (n, startedAt) => stats.measure(pool, requestFor(n).bytes, startedAt),
    }),
  )
  pool.close()
  const summary = stats.summary()
  const throughput = round(summary.ok / result.elapsedSeconds, 1)
  context.measurements.push({
    scenario,
    target: target.kind,
    label,
    generator: "bun closed loop",
    connections: SATURATION_CONNECTIONS,
    seconds: result.elapsedSeconds,
    requests: result.launched,
    ok: summary.ok,
    errors: summary.errors,
    errorsByCause: summary.errorsByCause,
    statuses: summary.statuses,
    throughput,
    latency: summary.latency,
    cpu,
    peakRssMb,
    targetThreads,
  })
  context.log(`  ${target.kind.padEnd(7)} ${label}: ${throughput}/s, p99 ${summary.latency.p99} ms`)
  return throughput
}

export const runWebhookScenarios = async (context: BenchContext) => {
  const { quick } = context.options
  const providerKey = `bench-${context.runId}-gh`
  await putGithubProvider(context.service, providerKey, WEBHOOK_SECRET, context.provider.url)
  const payloads = signedPayloads(WEBHOOK_SECRET, 256)
  const { service, floor } = webhookTargets(context, providerKey)
  const seconds = quick ? 3 : 10

  context.log("webhook ingest at fixed rates")
  const overloaded = { service: false, floor: false }
  for (const rate of quick ? [1000, 5000] : [1000, 2500, 5000, 10000, 20000]) {
    for (const target of [floor, service]) {
      if (overloaded[target.kind]) {
        context.notes.push(
          `webhook.fixed_rate: ${rate}/s was not sent to the ${target.kind}, which was overloaded at a lower rate.`,
        )
        continue
      }
      const outcome = await webhookOpenLoop(
        context,
        "webhook.fixed_rate",
        target,
        payloads,
        rate,
        seconds,
      )
      overloaded[target.kind] = outcome.overloaded
    }
  }

  if (!quick) {
    context.log("webhook ingest with 10 % duplicates at 5000/s")
    await webhookOpenLoop(context, "webhook.duplicates", floor, payloads, 5000, seconds, 10)
    await webhookOpenLoop(context, "webhook.duplicates", service, payloads, 5000, seconds, 10)
  }

  context.log(
    `webhook ingest at saturation (${context.wrk === undefined ? "Bun generator" : "wrk"})`,
  )
  const rounds = quick ? 1 : 3
  for (let round_ = 1; round_ <= rounds; round_++) {
    await webhookSaturation(
      context,
      "webhook.saturation",
      floor,
      payloads,
      seconds,
      `round ${round_}`,
    )
    await webhookSaturation(
      context,
      "webhook.saturation",
      service,
      payloads,
      seconds,
      `round ${round_}`,
    )
  }
  await webhookSaturation(
    context,
    "webhook.saturation_duplicates",
    floor,
    payloads,
    seconds,
    "10 % duplicates",
    10,
  )
  await webhookSaturation(
    context,
    "webhook.saturation_duplicates",
    service,
    payloads,
    seconds,
    "10 % duplicates",
    10,
  )

  // The counters are flushed to Postgres in batches; give them a moment.
  await waitForIdle(context.service.child.pid)
  await Bun.sleep(2_000)
  const counters = await webhookCounters(context.service, providerKey)
  const sent = context.measurements
    .filter((m) => m.scenario.startsWith("webhook.") && m.target === "service")
    .reduce((total, m) => total + m.ok, 0)
  context.notes.push(
    `Webhook counters of the service after the webhook scenarios: received ${counters.received}, ` +
      `accepted ${counters.accepted}, duplicates ${counters.duplicates}, rejected ${counters.rejected}; ` +
      `the generators saw ${sent} successful answers.`,
  )
  return { providerKey, payloads }
}
