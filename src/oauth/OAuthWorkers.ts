/**
 * Background work of the OAuth module, run by the worker role:
 *
 * - the refresher walks credentials that expire within the refresh margin,
 *   soonest first (the partial index on `expires_at WHERE refreshable`), and
 *   refreshes each through the same single-flight path as the API;
 * - the keep-alive pass refreshes, for templates with
 *   `keepAliveRefreshSeconds`, tokens last issued longer ago than that, so
 *   refresh tokens that lapse when unused stay valid;
 * - the revocation worker retries queued revocations that are due.
 */
import { Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { AppConfig } from "../config/AppConfig.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { Revocations } from "./Revocations.ts"
import { Tokens } from "./Tokens.ts"

export interface OAuthWorkerOptions {
  /** Pause between refresher passes. Default TOKEN_REFRESH_INTERVAL. */
  readonly refreshInterval?: Duration.Input | undefined
  /** Integrations refreshed per pass. Default 100. */
  readonly refreshBatch?: number | undefined
  /** Concurrent refreshes of one pass; providers are also bounded in `ProviderHttp`. Default 8. */
  readonly refreshConcurrency?: number | undefined
  /** Largest random delay before each refresh, to spread load. Default 1 second. */
  readonly refreshJitter?: Duration.Input | undefined
  /** Pause between revocation passes. Default 5 seconds. */
  readonly revocationInterval?: Duration.Input | undefined
}

interface DueRow {
  readonly integration_id: string
  readonly version: number
  readonly provider_key: string
  readonly organization_id: string
}

/**
 * Integrations whose background refresh failed, with the time before which
 * the refresher leaves them alone. Without it, a provider that is down
 * would keep its integrations at the head of the expiry order and every
 * pass would retry them while integrations behind them expire.
 */
class RefreshBackoff {
  private readonly entries = new Map<string, { failures: number; retryAt: number }>()

  /** Ids to skip now; bounded by `MAX_BACKOFF_ENTRIES`. */
  waiting(now: number): Array<string> {
    const ids: Array<string> = []
    for (const [id, entry] of this.entries) {
      if (entry.retryAt > now) ids.push(id)
      else if (entry.retryAt + MAX_BACKOFF_MILLIS < now) this.entries.delete(id)
    }
    return ids
  }

  failed(id: string, now: number): void {
    const failures = (this.entries.get(id)?.failures ?? 0) + 1
    const delay = Math.min(BASE_BACKOFF_MILLIS * 2 ** (failures - 1), MAX_BACKOFF_MILLIS)
    this.entries.delete(id)
    this.entries.set(id, { failures, retryAt: now + delay * (0.5 + Math.random() / 2) })
    if (this.entries.size > MAX_BACKOFF_ENTRIES) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }

  succeeded(id: string): void {
    this.entries.delete(id)
  }
}

const BASE_BACKOFF_MILLIS = 15_000
const MAX_BACKOFF_MILLIS = 3_600_000
const MAX_BACKOFF_ENTRIES = 10_000

const refresherPass = (options: OAuthWorkerOptions, backoff: RefreshBackoff) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const settings = yield* AppConfig
    const tokens = yield* Tokens
    const registry = yield* ProviderRegistry
    const batch = options.refreshBatch ?? 100
    const marginSeconds = Duration.toSeconds(settings.tokenRefreshMargin)

    const waiting = backoff.waiting(Date.now())
    const expiring = yield* sql<DueRow>`
      SELECT c.integration_id, c.version::int AS version, i.provider_key, i.organization_id
      FROM integration_credentials c
      JOIN integrations i ON i.id = c.integration_id
      WHERE c.refreshable AND c.expires_at < now() + make_interval(secs => ${marginSeconds})
        AND c.integration_id::text <> ALL(${waiting}::text[])
      ORDER BY c.expires_at
      LIMIT ${batch}`

    const keepAlive: Array<DueRow & { readonly force: true }> = []
    for (const provider of registry.all()) {
      const seconds = provider.config.oauth?.keepAliveRefreshSeconds
      if (seconds === undefined) continue
      const rows = yield* sql<DueRow>`
        SELECT c.integration_id, c.version::int AS version, i.provider_key, i.organization_id
        FROM integration_credentials c
        JOIN integrations i ON i.id = c.integration_id
        WHERE c.refreshable AND i.provider_key = ${provider.key}
          AND c.refreshed_at < now() - make_interval(secs => ${seconds})
        ORDER BY c.refreshed_at
        LIMIT ${batch}`
      for (const row of rows) keepAlive.push({ ...row, force: true })
    }

    const jitterMillis = Duration.toMillis(options.refreshJitter ?? "1 second")
    const due = [...expiring.map((row) => ({ ...row, force: false })), ...keepAlive]
    yield* Effect.forEach(
      due,
      (row) =>
        Effect.sleep(Duration.millis(Math.random() * jitterMillis)).pipe(
          Effect.andThen(
            tokens.refresh(row.integration_id, {
              providerKey: row.provider_key,
              organizationId: row.organization_id,
              observedVersion: row.version,
              force: row.force,
              trigger: row.force ? "keep_alive" : "background",
            }),
          ),
          // Failures are already counted and logged by Tokens; a dead grant
          // has left the refreshable set, and other failures are retried
          // after a growing pause.
          Effect.match({
            onFailure: () => backoff.failed(row.integration_id, Date.now()),
            onSuccess: () => backoff.succeeded(row.integration_id),
          }),
        ),
      { concurrency: options.refreshConcurrency ?? 8, discard: true },
    )
    if (due.length > 0) {
      yield* Effect.logDebug("token refresher pass finished").pipe(
        Effect.annotateLogs({ expiring: expiring.length, keep_alive: keepAlive.length }),
      )
    }
  }).pipe(Effect.withSpan("OAuthWorkers.refresherPass"))

const revocationPass = Effect.gen(function* () {
  const revocations = yield* Revocations
  const counts = yield* revocations.processDue(50)
  if (counts.revoked + counts.retried + counts.dropped > 0) {
    yield* Effect.logInfo("revocation retry pass finished").pipe(Effect.annotateLogs({ ...counts }))
  }
}).pipe(Effect.withSpan("OAuthWorkers.revocationPass"))

/** Logs a failed pass and keeps the loop alive; the next pass tries again. */
const keepRunning = <E, R>(name: string, pass: Effect.Effect<void, E, R>) =>
  pass.pipe(Effect.catchCause((cause) => Effect.logError(`${name} pass failed`, cause)))

/** Forks the refresher and the revocation worker for the lifetime of the layer. */
export const OAuthWorkersLive = (options: OAuthWorkerOptions = {}) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const backoff = new RefreshBackoff()
      const settings = yield* AppConfig
      yield* Effect.forkScoped(
        Effect.repeat(
          keepRunning("token refresher", refresherPass(options, backoff)),
          Schedule.spaced(options.refreshInterval ?? settings.tokenRefreshInterval),
        ),
      )
      yield* Effect.forkScoped(
        Effect.repeat(
          keepRunning("revocation worker", revocationPass),
          Schedule.spaced(options.revocationInterval ?? "5 seconds"),
        ),
      )
    }),
  )
