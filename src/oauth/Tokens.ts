/**
 * Hands out access tokens and refreshes them (RFC 6749 §6) exactly once per
 * expiry, however many callers and instances ask at the same moment:
 *
 * 1. Within a process, concurrent refreshes of one integration share one
 *    in-flight run (a map of Deferreds), which runs detached so a caller
 *    that disconnects does not cancel it for the others.
 * 2. Across processes, the run holds the lock `oauth-refresh:<id>`. After
 *    taking it, the run reads the row again: a version other than the one
 *    the caller saw means another instance refreshed meanwhile, and that
 *    result is returned without calling the provider.
 * 3. An `invalid_grant` answer is checked against the stored row once more:
 *    a refresh token that changed meanwhile means another writer won the
 *    race with a rotating refresh token. Otherwise the grant is dead, and
 *    the integration moves to `needs_reauth` without retries.
 */
import {
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Layer,
  Option,
  type Redacted,
} from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../config/AppConfig.ts"
import type { TokenCipherError } from "../crypto/TokenCipher.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { Locks } from "../storage/Locks.ts"
import type { StoreError } from "../storage/StoreError.ts"
import { resolveOAuthClient } from "./catalog/index.ts"
import { type Integration, IntegrationStore } from "./IntegrationStore.ts"
import {
  IntegrationNotFound,
  IntegrationUnusable,
  type ProviderCallError,
  ProviderNotFound,
  TokenRefreshFailed,
} from "./OAuthErrors.ts"
import { OAuthEvents } from "./OAuthEvents.ts"
import * as OAuthMetrics from "./OAuthMetrics.ts"
import { ProviderHttp } from "./ProviderHttp.ts"
import type { TokenEndpointError } from "./protocol/TokenEndpointError.ts"
import { buildRefreshTokenRequest } from "./protocol/TokenRequest.ts"
import { parseTokenResponse } from "./protocol/TokenResponse.ts"

export interface AccessToken {
  readonly accessToken: Redacted.Redacted<string>
  readonly tokenType: string
  readonly expiresAt: Date | null
  readonly scopes: ReadonlyArray<string>
}

export type RefreshError =
  | IntegrationNotFound
  | IntegrationUnusable
  | ProviderNotFound
  | ProviderCallError
  | TokenRefreshFailed
  | TokenCipherError
  | StoreError
  | SqlError

export interface RefreshOptions {
  /** Provider and organization of the integration, for metrics and analytics. */
  readonly providerKey: string
  readonly organizationId: string
  /** Credentials version the caller saw; a newer stored version is returned as is. */
  readonly observedVersion: number
  /** Refresh even when the token is not about to expire (keep-alive, `force_refresh`). */
  readonly force: boolean
  /** Origin of the refresh, for analytics. */
  readonly trigger: "on_demand" | "background" | "keep_alive"
}

export class Tokens extends Context.Service<
  Tokens,
  {
    /**
     * Returns a token valid for at least `TOKEN_REFRESH_MARGIN`, refreshing
     * first when needed or when `forceRefresh` is set. With `organizationId`,
     * an integration of another organization is not found.
     */
    readonly getToken: (
      id: string,
      options: { readonly organizationId?: string | undefined; readonly forceRefresh: boolean },
    ) => Effect.Effect<AccessToken, RefreshError>
    /** Refreshes one integration through the single-flight path; used by the background refresher. */
    readonly refresh: (
      id: string,
      options: RefreshOptions,
    ) => Effect.Effect<Integration, RefreshError>
  }
>()("app/oauth/Tokens") {
  static readonly layer = Layer.effect(
    Tokens,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const settings = yield* AppConfig
  const store = yield* IntegrationStore
  const registry = yield* ProviderRegistry
  const providerHttp = yield* ProviderHttp
  const locks = yield* Locks
  const events = yield* OAuthEvents
  const scope = yield* Effect.scope

  // Long enough for one refresh with all its retries; a holder that crashed
  // frees the lock after this time.
  const lockTtl = Duration.sum(Duration.times(settings.providerTimeout, 4), Duration.seconds(5))
  const inFlight = new Map<string, Deferred.Deferred<Integration, RefreshError>>()

  const isFresh = (integration: Integration, now: number): boolean => {
    const expiresAt = integration.credentials?.expiresAt
    if (expiresAt === null || expiresAt === undefined) return true
    return expiresAt.getTime() - now > Duration.toMillis(settings.tokenRefreshMargin)
  }

  const requireUsable = (integration: Integration) => {
    if (integration.status === "connected" && integration.credentials !== undefined) {
      return Effect.succeed(integration.credentials)
    }
    const needsReauth = integration.status === "needs_reauth"
    return Effect.fail(
      new IntegrationUnusable({
        reason: needsReauth ? "needs_reauth" : "disconnected",
        integrationId: integration.id,
        statusReason: integration.statusReason ?? undefined,
        message: needsReauth
          ? `Integration ${integration.id} needs a new authorization ` +
            `(${integration.statusReason ?? "grant rejected"}); start a connect session again.`
          : `Integration ${integration.id} is disconnected.`,
      }),
    )
  }

  const findOrFail = (id: string, organizationId?: string) =>
    Effect.flatMap(store.find(id, organizationId), (found) =>
      Option.match(found, {
        onNone: () =>
          Effect.fail(
            new IntegrationNotFound({
              reason: "unknown_id",
              integrationId: id,
              message: `No integration has id ${id}.`,
            }),
          ),
        onSome: Effect.succeed,
      }),
    )

  const markNeedsReauth = (integration: Integration, reason: string, detail: string) =>
    Effect.gen(function* () {
      yield* store.markNeedsReauth(integration.id, reason)
      yield* OAuthMetrics.increment(OAuthMetrics.integrationsNeedingReauthTotal, {
        provider: integration.providerKey,
        reason: reason.split(" ")[0] ?? reason,
      })
      yield* Effect.logWarning("integration needs a new authorization").pipe(
        Effect.annotateLogs({
          integration_id: integration.id,
          provider: integration.providerKey,
          reason,
          detail,
        }),
      )
      return yield* new IntegrationUnusable({
        reason: "needs_reauth",
        integrationId: integration.id,
        statusReason: reason,
        message:
          `Integration ${integration.id} needs a new authorization (${reason}); ` +
          "start a connect session again.",
      })
    })

  /**
   * Resolves an `invalid_grant`: a newer stored version means another writer
   * rotated the token first, otherwise the grant is dead.
   */
  const onInvalidGrant = (current: Integration, error: TokenEndpointError) =>
    Effect.gen(function* () {
      const reread = yield* findOrFail(current.id)
      if (
        reread.credentials !== undefined &&
        reread.credentials.version !== current.credentials?.version
      ) {
        return reread
      }
      const codes = error.errorCodes.length > 0 ? ` (${error.errorCodes.join(",")})` : ""
      return yield* markNeedsReauth(
        current,
        `invalid_grant${codes}`,
        error.errorDescription ?? "refresh token rejected",
      )
    })

  /** Calls the provider; runs while holding the integration's lock. */
  const refreshLocked = (id: string, options: RefreshOptions) =>
    Effect.gen(function* () {
      const current = yield* findOrFail(id)
      const credentials = yield* requireUsable(current)
      const now = yield* Clock.currentTimeMillis
      if (credentials.version !== options.observedVersion) return current
      if (!options.force && isFresh(current, now)) return current

      const refreshToken = yield* store.decryptRefreshToken(current)
      if (refreshToken === undefined) {
        const expired = credentials.expiresAt !== null && credentials.expiresAt.getTime() <= now
        if (!expired) return current
        return yield* markNeedsReauth(
          current,
          "no_refresh_token",
          "the access token expired and the provider issued no refresh token",
        )
      }

      const provider = registry.get(current.providerKey)
      if (Option.isNone(provider) || provider.value.config.oauth === undefined) {
        return yield* new ProviderNotFound({
          reason: "unknown_key",
          providerKey: current.providerKey,
          message: `Provider ${current.providerKey} of integration ${id} is not configured.`,
        })
      }
      const client = yield* resolveOAuthClient(provider.value.config, current.metadata).pipe(
        Effect.orDie,
      )
      const request = buildRefreshTokenRequest(client, { refreshToken })
      const response = yield* providerHttp.send(current.providerKey, "token_refresh", request)
      const parsed = yield* Effect.result(
        parseTokenResponse(client, response, { requestedScopes: current.scopes }),
      )
      if (parsed._tag === "Failure") {
        const error = parsed.failure
        if (error.invalidGrant) return yield* onInvalidGrant(current, error)
        yield* Effect.logWarning("token refresh failed").pipe(
          Effect.annotateLogs({
            integration_id: id,
            provider: current.providerKey,
            provider_error: error.error ?? error.code,
            description: error.errorDescription ?? error.message,
          }),
        )
        return yield* new TokenRefreshFailed({
          reason: error.reason === "network" ? "http_status" : error.reason,
          integrationId: id,
          providerError: error.error,
          message: `Refreshing integration ${id} failed: ${error.message}`,
        })
      }

      const saved = yield* store.saveRefresh(id, credentials.version, parsed.success)
      if (Option.isSome(saved)) return saved.value
      // The lock expired under a slow provider and another writer stored
      // tokens first; theirs are as good as ours.
      return yield* findOrFail(id)
    })

  const refresh = (id: string, options: RefreshOptions): Effect.Effect<Integration, RefreshError> =>
    Effect.suspend(() => {
      const running = inFlight.get(id)
      if (running !== undefined) return Deferred.await(running)

      const deferred = Deferred.makeUnsafe<Integration, RefreshError>()
      inFlight.set(id, deferred)
      const run = instrumented(id, options).pipe(
        Effect.exit,
        Effect.flatMap((exit) => {
          inFlight.delete(id)
          return Deferred.done(deferred, exit)
        }),
      )
      return Effect.forkIn(run, scope).pipe(Effect.andThen(Deferred.await(deferred)))
    })

  /** Runs one refresh under the lock, with its metrics, event and span. */
  const instrumented = (id: string, options: RefreshOptions) =>
    Effect.gen(function* () {
      const startedAt = performance.now()
      const { providerKey, organizationId } = options
      const exit = yield* Effect.exit(
        locks
          .withLock(`oauth-refresh:${id}`, lockTtl, refreshLocked(id, options), {
            waitUpTo: lockTtl,
          })
          .pipe(
            Effect.catchTag("LockTimeout", (error) =>
              Effect.fail(
                new TokenRefreshFailed({
                  reason: "lock_timeout",
                  integrationId: id,
                  providerError: undefined,
                  message: `Another refresh of integration ${id} is still running: ${error.message}`,
                }),
              ),
            ),
          ),
      )
      const seconds = (performance.now() - startedAt) / 1000
      const error = Exit.findErrorOption(exit)
      const outcome = Exit.isSuccess(exit)
        ? "success"
        : Option.isSome(error) &&
            error.value._tag === "IntegrationUnusable" &&
            error.value.reason === "needs_reauth"
          ? "needs_reauth"
          : "failed"
      yield* OAuthMetrics.observe(
        OAuthMetrics.tokenRefreshDuration,
        { provider: providerKey },
        seconds,
      )
      yield* OAuthMetrics.increment(OAuthMetrics.tokenRefreshesTotal, {
        provider: providerKey,
        outcome,
      })
      yield* events.emit({
        kind: "token_refresh",
        provider: providerKey,
        organization_id: organizationId,
        integration_id: id,
        outcome,
        ...Option.match(error, {
          onNone: () => ({}),
          onSome: (failure) => ({
            reason: (failure as { readonly code?: string }).code ?? failure._tag,
          }),
        }),
        refresh_ms: seconds * 1000,
        trigger: options.trigger,
      })
      return yield* exit
    }).pipe(Effect.withSpan("Tokens.refresh", { attributes: { integration_id: id } }))

  const getToken = (
    id: string,
    options: { readonly organizationId?: string | undefined; readonly forceRefresh: boolean },
  ) =>
    Effect.gen(function* () {
      let integration = yield* findOrFail(id, options.organizationId)
      const credentials = yield* requireUsable(integration)
      const now = yield* Clock.currentTimeMillis
      if (options.forceRefresh || !isFresh(integration, now)) {
        integration = yield* refresh(id, {
          providerKey: integration.providerKey,
          organizationId: integration.organizationId,
          observedVersion: credentials.version,
          force: options.forceRefresh,
          trigger: "on_demand",
        })
        // A disconnect may have deleted the credentials while the refresh ran.
        yield* requireUsable(integration)
      }
      const accessToken = yield* store.decryptAccessToken(integration)
      const token: AccessToken = {
        accessToken,
        tokenType: integration.credentials?.tokenType ?? "bearer",
        expiresAt: integration.credentials?.expiresAt ?? null,
        scopes: integration.scopes,
      }
      return token
    }).pipe(Effect.withSpan("Tokens.getToken"))

  return Tokens.of({ getToken, refresh })
})
