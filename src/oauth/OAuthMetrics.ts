/**
 * Prometheus metrics of the OAuth flows. Labels are bounded: provider keys
 * come from the operator's configuration, and outcomes, reasons and
 * operations are fixed lists. No organization or integration id is a label.
 */
import { type Effect, Metric } from "effect"

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10, 30]

export const callbackDuration = Metric.histogram("oauth_callback_duration_seconds", {
  description: "Time to handle an OAuth callback, token exchange and storage included",
  boundaries: SECONDS,
})

export const callbacksTotal = Metric.counter("oauth_callbacks_total", {
  description: "OAuth callbacks by provider, outcome (connected, denied, failed) and reason",
  incremental: true,
})

export const stateValidationFailuresTotal = Metric.counter(
  "oauth_state_validation_failures_total",
  {
    description: "OAuth callbacks rejected for their state: missing, malformed, unknown, expired",
    incremental: true,
  },
)

export const flowsStartedTotal = Metric.counter("oauth_flows_started_total", {
  description: "Connect sessions created, by provider",
  incremental: true,
})

export const tokenRefreshDuration = Metric.histogram("oauth_token_refresh_duration_seconds", {
  description: "Time of one token refresh at the provider, storage included",
  boundaries: SECONDS,
})

export const tokenRefreshesTotal = Metric.counter("oauth_token_refreshes_total", {
  description: "Token refreshes by provider and outcome (success, needs_reauth, failed)",
  incremental: true,
})

export const providerRequestDuration = Metric.histogram("oauth_provider_request_duration_seconds", {
  description:
    "Requests to provider endpoints by provider, operation and HTTP status " +
    "(or error, timeout, circuit_open)",
  boundaries: SECONDS,
})

export const circuitBreakerState = Metric.gauge("oauth_circuit_breaker_state", {
  description: "Circuit state per provider: 0 closed, 1 open, 2 half-open",
})

export const revocationsTotal = Metric.counter("oauth_revocations_total", {
  description: "Token revocations by provider and outcome (revoked, queued, failed, skipped)",
  incremental: true,
})

export const integrationsNeedingReauthTotal = Metric.counter(
  "oauth_integrations_needs_reauth_total",
  {
    description: "Integrations moved to needs_reauth, by provider and provider error code",
    incremental: true,
  },
)

/** Adds 1 to `counter` under `attributes`. */
export const increment = (
  counter: Metric.Counter<number>,
  attributes: Readonly<Record<string, string>>,
): Effect.Effect<void> => Metric.update(Metric.withAttributes(counter, attributes), 1)

/** Records `seconds` in `histogram` under `attributes`. */
export const observe = (
  histogram: Metric.Histogram<number>,
  attributes: Readonly<Record<string, string>>,
  seconds: number,
): Effect.Effect<void> => Metric.update(Metric.withAttributes(histogram, attributes), seconds)

const CIRCUIT_STATE_VALUES = { Closed: 0, Open: 1, HalfOpen: 2 } as const

export const setCircuitState = (
  provider: string,
  state: keyof typeof CIRCUIT_STATE_VALUES,
): Effect.Effect<void> =>
  Metric.update(
    Metric.withAttributes(circuitBreakerState, { provider }),
    CIRCUIT_STATE_VALUES[state],
  )
