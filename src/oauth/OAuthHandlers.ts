import { Effect, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal, canAccessOrganization, type Principal } from "../auth/Principal.ts"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError } from "../http/ErrorMapping.ts"
import { ConnectSessions } from "./ConnectSessions.ts"
import { type Integration, IntegrationStore } from "./IntegrationStore.ts"
import { Revocations } from "./Revocations.ts"
import { Tokens } from "./Tokens.ts"

const DEFAULT_PAGE_SIZE = 50
const MAX_PAGE_SIZE = 200
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const integrationView = (integration: Integration) => ({
  id: integration.id,
  organization_id: integration.organizationId,
  provider: integration.providerKey,
  status: integration.status,
  status_reason: integration.statusReason,
  scopes: [...integration.scopes],
  external_id: integration.externalId,
  expires_at: integration.credentials?.expiresAt?.toISOString() ?? null,
  can_refresh:
    integration.credentials !== undefined &&
    integration.credentials.refreshToken !== null &&
    integration.status === "connected",
  created_at: integration.createdAt.toISOString(),
  updated_at: integration.updatedAt.toISOString(),
})

/** The organization a principal is limited to; undefined for the admin key. */
const scopeOf = (principal: Principal): string | undefined =>
  principal.kind === "admin" ? undefined : principal.organizationId

// The cursor is the last id of the page, base64url-encoded so callers treat
// it as opaque and the encoding may change.
const encodeCursor = (id: string): string => Buffer.from(`i:${id}`).toString("base64url")

const decodeCursor = (cursor: string) => {
  const text = Buffer.from(cursor, "base64url").toString("utf8")
  const id = text.startsWith("i:") ? text.slice(2) : ""
  return UUID.test(id)
    ? Effect.succeed(id)
    : Effect.fail(apiError(400, "invalid_request", "cursor is not one this API returned."))
}

export const ConnectSessionsHandlers = HttpApiBuilder.group(Api, "connectSessions", (handlers) =>
  Effect.gen(function* () {
    const sessions = yield* ConnectSessions
    return handlers.handle("create", ({ payload }) =>
      Effect.gen(function* () {
        const principal = yield* CurrentPrincipal
        if (!canAccessOrganization(principal, payload.organization_id)) {
          return yield* Effect.fail(
            apiError(
              403,
              "organization_not_allowed",
              "This API key may only create sessions for its own organization.",
            ),
          )
        }
        const session = yield* orApiError(
          sessions.create({
            organizationId: payload.organization_id,
            providerKey: payload.provider,
            redirectUrl: payload.redirect_url,
            scopes: payload.scopes,
            metadata: payload.metadata,
          }),
        )
        return {
          id: session.id,
          authorization_url: session.authorizationUrl,
          expires_at: session.expiresAt.toISOString(),
        }
      }),
    )
  }),
)

export const IntegrationsHandlers = HttpApiBuilder.group(Api, "integrations", (handlers) =>
  Effect.gen(function* () {
    const store = yield* IntegrationStore
    const tokens = yield* Tokens
    const revocations = yield* Revocations

    return handlers
      .handle("list", ({ query }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const scoped = scopeOf(principal)
          if (
            scoped !== undefined &&
            query.organization_id !== undefined &&
            query.organization_id !== scoped
          ) {
            return { data: [], next_cursor: null }
          }
          const limit = query.limit ?? DEFAULT_PAGE_SIZE
          if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
            return yield* Effect.fail(
              apiError(
                400,
                "invalid_request",
                `limit must be an integer from 1 to ${MAX_PAGE_SIZE}.`,
              ),
            )
          }
          const afterId = query.cursor === undefined ? undefined : yield* decodeCursor(query.cursor)
          const page = yield* orApiError(
            store.list({
              organizationId: scoped ?? query.organization_id,
              providerKey: query.provider,
              status: query.status,
              afterId,
              limit: limit + 1,
            }),
          )
          const data = page.slice(0, limit)
          const last = data[data.length - 1]
          return {
            data: data.map(integrationView),
            next_cursor: page.length > limit && last !== undefined ? encodeCursor(last.id) : null,
          }
        }),
      )
      .handle("get", ({ params }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const found = yield* orApiError(store.find(params.id, scopeOf(principal)))
          if (Option.isNone(found)) {
            return yield* Effect.fail(
              apiError(404, "integration_not_found", `No integration has id ${params.id}.`),
            )
          }
          const pending = yield* orApiError(store.countPendingRevocations(params.id))
          return { ...integrationView(found.value), pending_revocations: pending }
        }),
      )
      .handle("token", ({ params, payload }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const token = yield* orApiError(
            tokens.getToken(params.id, {
              organizationId: scopeOf(principal),
              forceRefresh: payload?.force_refresh === true,
            }),
          )
          return {
            access_token: Redacted.value(token.accessToken),
            token_type: token.tokenType,
            expires_at: token.expiresAt?.toISOString() ?? null,
            scopes: [...token.scopes],
          }
        }),
      )
      .handle("disconnect", ({ params }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          yield* orApiError(revocations.disconnect(params.id, scopeOf(principal)))
        }),
      )
  }),
)
