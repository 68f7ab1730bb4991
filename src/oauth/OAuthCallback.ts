/**
 * The redirection endpoint of the authorization-code flow (RFC 6749 §4.1.2):
 * consumes the state once, exchanges the code at the provider's token
 * endpoint, validates the token response field by field, and stores the
 * integration and its encrypted tokens in one transaction.
 *
 * The outcome is a redirect to the application's URL with `integration_id`
 * and `status=connected`, or with `error` and `error_description`. Only a
 * state that cannot be trusted (missing, unknown, used, expired) yields an
 * error page instead, because without it there is no safe place to redirect.
 */
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { resolveOAuthClient } from "./catalog/index.ts"
import { IntegrationStore } from "./IntegrationStore.ts"
import type { OAuthStateError } from "./OAuthErrors.ts"
import { OAuthEvents } from "./OAuthEvents.ts"
import * as OAuthMetrics from "./OAuthMetrics.ts"
import { OAuthStates, type PendingAuthorization } from "./OAuthStates.ts"
import { ProviderHttp } from "./ProviderHttp.ts"
import { buildAuthorizationCodeRequest } from "./protocol/TokenRequest.ts"
import { parseTokenResponse, type TokenSet } from "./protocol/TokenResponse.ts"

export interface CallbackParams {
  readonly code: string | undefined
  readonly state: string | undefined
  readonly error: string | undefined
  readonly errorDescription: string | undefined
}

export type CallbackResult =
  | { readonly _tag: "Redirect"; readonly location: string }
  | {
      readonly _tag: "ErrorPage"
      readonly status: number
      readonly title: string
      readonly message: string
    }

/** Error codes of RFC 6749 §4.1.2.1; any other provider code is labelled `other` in metrics. */
const AUTHORIZATION_ERRORS = new Set([
  "access_denied",
  "invalid_request",
  "invalid_scope",
  "server_error",
  "temporarily_unavailable",
  "unauthorized_client",
  "unsupported_response_type",
])

/** Keeps printable ASCII of a provider-supplied text and shortens it. */
const cleanText = (value: string | undefined, maxLength: number): string | undefined => {
  if (value === undefined || value === "") return undefined
  const clean = value.replace(/[^\x20-\x7E]/g, "?")
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}...` : clean
}

/** Field names of token-response extras that name the provider account, in order of preference. */
const EXTERNAL_ID_FIELDS = [
  "team.id",
  "enterprise.id",
  "workspace_id",
  "account_id",
  "installation.id",
]

/**
 * Picks the provider-side account id that webhooks are routed by: the first
 * kept token-response field in `EXTERNAL_ID_FIELDS`, else the first URL
 * placeholder value (Shopify's shop domain).
 * NOTE: the catalog has no field naming the routing value of each template,
 * so this list replaces one.
 */
const externalIdOf = (
  tokens: TokenSet,
  urlValues: Readonly<Record<string, string>>,
): string | undefined => {
  for (const field of EXTERNAL_ID_FIELDS) {
    const value = tokens.extra[field]
    if (typeof value === "string" && value !== "") return value
    if (typeof value === "number") return String(value)
  }
  return Object.values(urlValues)[0]
}

const withParams = (url: string, params: Readonly<Record<string, string | undefined>>): string => {
  const target = new URL(url)
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) target.searchParams.set(name, value)
  }
  return target.toString()
}

export class OAuthCallback extends Context.Service<
  OAuthCallback,
  { readonly handle: (params: CallbackParams) => Effect.Effect<CallbackResult> }
>()("app/oauth/OAuthCallback") {
  static readonly layer = Layer.effect(
    OAuthCallback,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const states = yield* OAuthStates
  const registry = yield* ProviderRegistry
  const providerHttp = yield* ProviderHttp
  const integrations = yield* IntegrationStore
  const events = yield* OAuthEvents

  interface Failure {
    readonly code: string
    readonly description: string
    /** Bounded metric label. */
    readonly reason: string
  }

  const fail = (code: string, description: string, reason = code): Failure => ({
    code,
    description,
    reason,
  })

  /** Exchanges the code and stores the integration; returns its id or a failure. */
  const connect = (pending: PendingAuthorization, code: string) =>
    Effect.gen(function* () {
      const provider = registry.get(pending.providerKey)
      if (Option.isNone(provider) || provider.value.config.oauth === undefined) {
        return yield* Effect.fail(
          fail("provider_not_found", `Provider ${pending.providerKey} is no longer configured.`),
        )
      }
      const client = yield* resolveOAuthClient(provider.value.config, pending.metadata).pipe(
        Effect.mapError((error) => fail("invalid_request", error.message, "invalid_metadata")),
      )

      const startedAt = performance.now()
      const emitExchange = (outcome: "success" | "failed", reason: string) =>
        events.emit({
          kind: "token_exchange",
          provider: pending.providerKey,
          organization_id: pending.organizationId,
          integration_id: "",
          outcome,
          ...(reason === "" ? {} : { reason }),
          exchange_ms: performance.now() - startedAt,
        })
      const request = buildAuthorizationCodeRequest(client, {
        code: Redacted.make(code),
        redirectUri: pending.callbackUrl,
        codeVerifier: pending.codeVerifier,
      })
      const exchanged = yield* providerHttp
        .send(pending.providerKey, "token_exchange", request, {
          // An authorization code is single-use (RFC 6749 section 4.1.2):
          // a retry after a 5xx or a timeout could only fail or be refused.
          retries: 0,
        })
        .pipe(
          Effect.mapError((error) => fail(error.code, error.message)),
          Effect.flatMap((response) =>
            parseTokenResponse(client, response, { requestedScopes: pending.scopes }).pipe(
              Effect.mapError((error) =>
                fail(
                  error.error ?? error.code,
                  error.errorDescription ?? error.message,
                  error.reason === "provider_error" ? "provider_error" : error.code,
                ),
              ),
            ),
          ),
          Effect.tapError((failure) =>
            Effect.logWarning("token exchange failed").pipe(
              Effect.annotateLogs({
                provider: pending.providerKey,
                provider_error: failure.code,
                description: failure.description,
              }),
              Effect.andThen(emitExchange("failed", failure.reason)),
            ),
          ),
          Effect.tap(() => emitExchange("success", "")),
        )

      const { integration, created } = yield* integrations
        .saveConnection({
          organizationId: pending.organizationId,
          providerKey: pending.providerKey,
          tokens: exchanged,
          externalId: externalIdOf(exchanged, client.urlValues),
          metadata: pending.metadata,
        })
        .pipe(
          Effect.tapError((error) => Effect.logError("storing a new integration failed", error)),
          Effect.mapError(() =>
            fail("server_error", "The connection could not be stored; try again.", "store_failed"),
          ),
        )

      if (integration.credentials?.refreshToken === null) {
        // The integration works until its access token expires, then needs a
        // new authorization. Providers that send a refresh token only for
        // offline access requests cause this.
        const log = exchanged.expiresAt === undefined ? Effect.logInfo : Effect.logWarning
        yield* log("integration has no refresh token and cannot be refreshed").pipe(
          Effect.annotateLogs({
            provider: pending.providerKey,
            integration_id: integration.id,
            created,
          }),
        )
      }
      return integration
    })

  const stateErrorPage = (error: OAuthStateError): CallbackResult => ({
    _tag: "ErrorPage",
    status: 400,
    title: error.reason === "expired" ? "This link has expired" : "This link is not valid",
    message: error.message,
  })

  const handle = (params: CallbackParams) =>
    Effect.gen(function* () {
      const startedAt = performance.now()
      const finish = (
        outcome: "connected" | "denied" | "failed" | "rejected",
        reason: string,
        pending: PendingAuthorization | undefined,
        integrationId?: string,
      ) =>
        Effect.gen(function* () {
          const seconds = (performance.now() - startedAt) / 1000
          const provider = pending?.providerKey ?? "unknown"
          yield* OAuthMetrics.observe(OAuthMetrics.callbackDuration, { provider }, seconds)
          yield* OAuthMetrics.increment(OAuthMetrics.callbacksTotal, { provider, outcome, reason })
          yield* events.emit({
            kind: "oauth_flow",
            stage: "callback",
            provider,
            organization_id: pending?.organizationId ?? "",
            integration_id: integrationId ?? "",
            outcome: outcome === "rejected" ? "failed" : outcome,
            ...(reason === "" ? {} : { reason }),
            callback_ms: seconds * 1000,
          })
        })

      const consumed = yield* Effect.result(states.consume(params.state))
      if (consumed._tag === "Failure") {
        const error = consumed.failure
        if (error._tag === "StoreError") {
          yield* Effect.logError("reading the OAuth state failed", error)
          yield* finish("failed", "store_unavailable", undefined)
          const page: CallbackResult = {
            _tag: "ErrorPage",
            status: 503,
            title: "Temporarily unavailable",
            message: "The service could not check this link. Try again in a moment.",
          }
          return page
        }
        yield* OAuthMetrics.increment(OAuthMetrics.stateValidationFailuresTotal, {
          reason: error.reason,
        })
        yield* Effect.logInfo("OAuth callback rejected: invalid state").pipe(
          Effect.annotateLogs({ reason: error.reason }),
        )
        yield* finish("rejected", error.code, undefined)
        return stateErrorPage(error)
      }
      const pending = consumed.success
      const redirect = (query: Readonly<Record<string, string | undefined>>): CallbackResult => ({
        _tag: "Redirect",
        location: withParams(pending.redirectUrl, query),
      })

      if (params.error !== undefined) {
        // RFC 6749 §4.1.2.1: the user or the provider refused; nothing to exchange.
        const error = cleanText(params.error, 100) ?? "access_denied"
        const description = cleanText(params.errorDescription, 300)
        yield* Effect.logInfo("authorization was not granted").pipe(
          Effect.annotateLogs({
            provider: pending.providerKey,
            organization_id: pending.organizationId,
            error,
          }),
        )
        yield* finish("denied", AUTHORIZATION_ERRORS.has(error) ? error : "other", pending)
        return redirect({ error, error_description: description })
      }

      if (params.code === undefined || params.code === "") {
        yield* finish("failed", "missing_code", pending)
        return redirect({
          error: "invalid_request",
          error_description: "The provider returned neither a code nor an error.",
        })
      }

      const connected = yield* Effect.result(connect(pending, params.code))
      if (connected._tag === "Failure") {
        const failure = connected.failure
        yield* finish("failed", failure.reason, pending)
        return redirect({ error: failure.code, error_description: failure.description })
      }
      yield* finish("connected", "", pending, connected.success.id)
      return redirect({ integration_id: connected.success.id, status: "connected" })
    }).pipe(Effect.withSpan("OAuthCallback.handle"))

  return OAuthCallback.of({ handle })
})
