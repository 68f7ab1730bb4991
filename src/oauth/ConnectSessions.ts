/**
 * Starts the authorization-code flow (RFC 6749 §4.1) for one organization
 * and provider. The application's redirect URL is checked against the
 * allow-list, and the provider's URLs are bound to the session metadata
 * (Shopify's shop, Microsoft's tenant). The result is the provider's
 * authorization URL, with a new state and PKCE challenge.
 */
import { randomUUID } from "node:crypto"
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import { AppConfig, type AppSettings } from "../config/AppConfig.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import type { StoreError } from "../storage/StoreError.ts"
import { resolveOAuthClient } from "./catalog/index.ts"
import { InvalidConnectRequest, ProviderNotFound, RedirectUrlNotAllowed } from "./OAuthErrors.ts"
import { OAuthEvents } from "./OAuthEvents.ts"
import * as OAuthMetrics from "./OAuthMetrics.ts"
import { OAuthStates, STATE_LIFETIME } from "./OAuthStates.ts"
import { buildAuthorizationUrl } from "./protocol/AuthorizationUrl.ts"
import { generatePkce } from "./protocol/Pkce.ts"
import { isScopeToken, mergeScopes } from "./protocol/Scopes.ts"
import { generateState } from "./protocol/State.ts"

export interface ConnectRequest {
  readonly organizationId: string
  readonly providerKey: string
  readonly redirectUrl: string
  readonly scopes: ReadonlyArray<string> | undefined
  readonly metadata: Readonly<Record<string, unknown>> | undefined
}

export interface ConnectSession {
  readonly id: string
  readonly authorizationUrl: string
  readonly expiresAt: Date
  readonly scopes: ReadonlyArray<string>
}

export type ConnectError =
  | RedirectUrlNotAllowed
  | ProviderNotFound
  | InvalidConnectRequest
  | StoreError

/** The callback URL: `${PUBLIC_URL}/oauth/callback`, keeping any path prefix. */
export const callbackUrl = (settings: AppSettings): string =>
  `${settings.publicUrl.toString().replace(/\/+$/, "")}/oauth/callback`

/** Checks that `redirectUrl` is absolute and its origin is in `ALLOWED_REDIRECT_ORIGINS`. */
export const checkRedirectUrl = (
  settings: AppSettings,
  redirectUrl: string,
): Effect.Effect<URL, RedirectUrlNotAllowed> => {
  let url: URL
  try {
    url = new URL(redirectUrl)
  } catch {
    return Effect.fail(
      new RedirectUrlNotAllowed({
        reason: "invalid_url",
        redirectUrl,
        message: "redirect_url must be an absolute URL.",
      }),
    )
  }
  const allowed = settings.allowedRedirectOrigins.some(
    (origin) => new URL(origin).origin === url.origin,
  )
  if (allowed && url.username === "" && url.password === "") return Effect.succeed(url)
  return Effect.fail(
    new RedirectUrlNotAllowed({
      reason: "origin_not_allowed",
      redirectUrl,
      message:
        `redirect_url origin ${url.origin} is not allowed; add it to ` +
        "ALLOWED_REDIRECT_ORIGINS to use it.",
    }),
  )
}

export class ConnectSessions extends Context.Service<
  ConnectSessions,
  { readonly create: (request: ConnectRequest) => Effect.Effect<ConnectSession, ConnectError> }
>()("app/oauth/ConnectSessions") {
  static readonly layer = Layer.effect(
    ConnectSessions,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const settings = yield* AppConfig
  const registry = yield* ProviderRegistry
  const states = yield* OAuthStates
  const events = yield* OAuthEvents
  const crypto = Layer.mergeAll(SecureRandom.layerWebCrypto, Digest.layerWebCrypto)

  const create = (request: ConnectRequest) =>
    Effect.gen(function* () {
      const redirectUrl = yield* checkRedirectUrl(settings, request.redirectUrl)
      const provider = registry.get(request.providerKey)
      if (Option.isNone(provider)) {
        return yield* new ProviderNotFound({
          reason: "unknown_key",
          providerKey: request.providerKey,
          message: `No provider has key ${request.providerKey}.`,
        })
      }
      if (provider.value.config.oauth === undefined) {
        return yield* new ProviderNotFound({
          reason: "no_oauth",
          providerKey: request.providerKey,
          message: `Provider ${request.providerKey} has no OAuth settings to connect with.`,
        })
      }

      const badScope = (request.scopes ?? []).find((scope) => !isScopeToken(scope))
      if (badScope !== undefined) {
        return yield* new InvalidConnectRequest({
          reason: "invalid_scopes",
          field: "scopes",
          message: `scopes contains ${JSON.stringify(badScope)}, which is not a valid scope token.`,
        })
      }

      const metadata = request.metadata ?? {}
      const client = yield* resolveOAuthClient(provider.value.config, metadata).pipe(
        Effect.mapError(
          (error) =>
            new InvalidConnectRequest({
              reason: "invalid_metadata",
              field: error.field,
              message: error.message,
            }),
        ),
      )

      const state = yield* generateState
      const pkce = client.pkce ? yield* generatePkce : undefined
      const redirectUri = callbackUrl(settings)
      const authorization = buildAuthorizationUrl(client, {
        redirectUri,
        state,
        scopes: request.scopes,
        codeChallenge: pkce?.codeChallenge,
      })

      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + Duration.toMillis(STATE_LIFETIME)
      const sessionId = randomUUID()
      yield* states.save(state, {
        sessionId,
        organizationId: request.organizationId,
        providerKey: request.providerKey,
        redirectUrl: redirectUrl.toString(),
        callbackUrl: redirectUri,
        scopes: mergeScopes(authorization.scopes),
        metadata,
        codeVerifier: pkce?.codeVerifier,
        expiresAt,
      })

      yield* OAuthMetrics.increment(OAuthMetrics.flowsStartedTotal, {
        provider: request.providerKey,
      })
      yield* events.emit({
        kind: "oauth_flow",
        stage: "started",
        provider: request.providerKey,
        organization_id: request.organizationId,
        integration_id: "",
      })
      const session: ConnectSession = {
        id: sessionId,
        authorizationUrl: authorization.url,
        expiresAt: new Date(expiresAt),
        scopes: authorization.scopes,
      }
      return session
    }).pipe(
      Effect.provide(crypto),
      Effect.withSpan("ConnectSessions.create", {
        attributes: { provider: request.providerKey },
      }),
    )

  return ConnectSessions.of({ create })
})
