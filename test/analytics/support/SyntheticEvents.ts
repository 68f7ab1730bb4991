/**
 * Reproducible synthetic analytics events and the aggregates the queries
 * must return for them, computed exactly in TypeScript.
 */
import type {
  AnalyticsEvent,
  OAuthFlowEvent,
  TokenRefreshEvent,
  WebhookEvent,
} from "../../../src/analytics/Events.ts"
import type { Interval } from "../../../src/analytics/Queries.ts"

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const uuidFrom = (random: () => number): string => {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16))
  hex[12] = "4"
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  const text = hex.join("")
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`
}

export interface GenerateOptions {
  readonly count: number
  readonly seed: number
  /** Epoch milliseconds of the first possible event. */
  readonly start: number
  readonly spanMillis: number
  readonly providers: ReadonlyArray<string>
  readonly organizations: ReadonlyArray<string>
}

/**
 * Generates events of every kind: about half webhooks, a fifth OAuth flow
 * stages, the rest code exchanges, refreshes and revocations. Latencies are
 * log-normal with a few exact zeros, in milliseconds with 3 decimals.
 */
export const generateEvents = (options: GenerateOptions): Array<AnalyticsEvent> => {
  const random = seededRandom(options.seed)
  const pick = <A>(values: ReadonlyArray<A>): A => values[Math.floor(random() * values.length)]!
  const latency = (median: number): number => {
    if (random() < 0.01) return 0
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
    return Math.round(median * Math.exp(0.8 * normal) * 1000) / 1000
  }

  const events: Array<AnalyticsEvent> = []
  for (let i = 0; i < options.count; i++) {
    const common = {
      event_id: uuidFrom(random),
      time: options.start + Math.floor(random() * options.spanMillis),
      provider: pick(options.providers),
      organization_id: pick(options.organizations),
      integration_id: random() < 0.5 ? "" : `int-${Math.floor(random() * 50)}`,
    }
    const kind = random()
    if (kind < 0.5) {
      const outcome = pick([
        "received",
        "accepted",
        "rejected",
        "duplicate",
        "delivered",
        "failed",
        "dead_lettered",
      ] as const)
      const webhook: WebhookEvent = {
        kind: "webhook",
        ...common,
        endpoint_id: `ep-${Math.floor(random() * 3)}`,
        outcome,
        ...(outcome === "rejected" ? { reason: "signature_mismatch" } : {}),
        delivery_id: `dlv-${i}`,
        ...(outcome === "accepted" ? { ack_ms: latency(8) } : {}),
        ...(outcome === "delivered" || outcome === "failed"
          ? { processing_ms: latency(120), attempt: 1 + Math.floor(random() * 3) }
          : {}),
      }
      events.push(webhook)
    } else if (kind < 0.7) {
      const started = random() < 0.5
      const flow: OAuthFlowEvent = started
        ? { kind: "oauth_flow", ...common, stage: "started" }
        : {
            kind: "oauth_flow",
            ...common,
            stage: "callback",
            outcome: pick(["connected", "denied", "failed"] as const),
            callback_ms: latency(150),
          }
      events.push(flow)
    } else if (kind < 0.8) {
      const success = random() < 0.9
      events.push({
        kind: "token_exchange",
        ...common,
        outcome: success ? "success" : "failed",
        ...(success ? {} : { reason: "invalid_grant" }),
        exchange_ms: latency(200),
      })
    } else if (kind < 0.95) {
      const refresh: TokenRefreshEvent = {
        kind: "token_refresh",
        ...common,
        outcome: pick(["success", "success", "success", "failed", "needs_reauth"] as const),
        trigger: pick(["on_demand", "background", "keep_alive"] as const),
        refresh_ms: latency(250),
      }
      events.push(refresh)
    } else {
      events.push({
        kind: "revocation",
        ...common,
        token_type_hint: pick(["access_token", "refresh_token"] as const),
        outcome: pick(["revoked", "already_revoked", "queued", "failed"] as const),
      })
    }
  }
  return events
}

const INTERVAL_MILLIS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
}

export const bucketOf = (time: number, interval: Interval): string => {
  const size = INTERVAL_MILLIS[interval]
  return new Date(Math.floor(time / size) * size).toISOString()
}

export interface ExpectedGroup {
  readonly counts: Record<string, number>
  readonly latencies: Record<string, Array<number>>
}

export interface Filter {
  readonly provider?: string
  readonly organization_id?: string
}

const matches = (event: AnalyticsEvent, filter: Filter): boolean =>
  (filter.provider === undefined || event.provider === filter.provider) &&
  (filter.organization_id === undefined || event.organization_id === filter.organization_id)

const group = (
  groups: Map<string, ExpectedGroup>,
  event: AnalyticsEvent,
  interval: Interval,
): ExpectedGroup => {
  const key = `${bucketOf(event.time, interval)}|${event.provider}`
  let found = groups.get(key)
  if (found === undefined) {
    found = { counts: {}, latencies: {} }
    groups.set(key, found)
  }
  return found
}

const count = (target: ExpectedGroup, name: string): void => {
  target.counts[name] = (target.counts[name] ?? 0) + 1
}

const measure = (target: ExpectedGroup, name: string, value: number | undefined): void => {
  if (value === undefined) return
  const values = target.latencies[name] ?? []
  values.push(value)
  target.latencies[name] = values
}

/** Expected webhook counts (named as in `WebhookStatsRow`) and latencies by "bucket|provider". */
export const expectedWebhookStats = (
  events: ReadonlyArray<AnalyticsEvent>,
  interval: Interval,
  filter: Filter = {},
): Map<string, ExpectedGroup> => {
  const groups = new Map<string, ExpectedGroup>()
  for (const event of events) {
    if (event.kind !== "webhook" || !matches(event, filter)) continue
    const target = group(groups, event, interval)
    count(target, event.outcome === "duplicate" ? "duplicates" : event.outcome)
    measure(target, "ack_ms", event.ack_ms)
    measure(target, "processing_ms", event.processing_ms)
  }
  return groups
}

/** Expected OAuth flow and refresh counts (named as in `OAuthStatsRow`) and latencies. */
export const expectedOAuthStats = (
  events: ReadonlyArray<AnalyticsEvent>,
  interval: Interval,
  filter: Filter = {},
): Map<string, ExpectedGroup> => {
  const groups = new Map<string, ExpectedGroup>()
  for (const event of events) {
    if (!matches(event, filter)) continue
    if (event.kind === "oauth_flow") {
      const target = group(groups, event, interval)
      count(target, event.stage === "started" ? "started" : event.outcome!)
      measure(target, "callback_ms", event.callback_ms)
    } else if (event.kind === "token_refresh") {
      const target = group(groups, event, interval)
      count(target, `refresh_${event.outcome}`)
      measure(target, "refresh_ms", event.refresh_ms)
    }
  }
  return groups
}
