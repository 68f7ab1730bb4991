import { Effect, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError } from "../http/ErrorMapping.ts"
import { type ApiKeyRecord, ApiKeys } from "./ApiKeys.ts"
import { CurrentPrincipal } from "./Principal.ts"

const view = (record: ApiKeyRecord) => ({
  id: record.id,
  name: record.name,
  organization_id: record.organizationId,
  key_prefix: record.keyPrefix,
  created_at: record.createdAt.toISOString(),
  revoked_at: record.revokedAt?.toISOString() ?? null,
  last_used_at: record.lastUsedAt?.toISOString() ?? null,
})

const requireAdmin = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  if (principal.kind !== "admin") {
    return yield* Effect.fail(
      apiError(403, "admin_key_required", "Managing API keys requires the admin key."),
    )
  }
})

export const ApiKeysHandlers = HttpApiBuilder.group(Api, "apiKeys", (handlers) =>
  Effect.gen(function* () {
    const apiKeys = yield* ApiKeys
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const created = yield* orApiError(
            apiKeys.create({ organizationId: payload.organization_id, name: payload.name }),
          )
          return { ...view(created.record), key: Redacted.value(created.key) }
        }),
      )
      .handle("list", ({ query }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const organizationId =
            principal.kind === "admin" ? query.organization_id : principal.organizationId
          const records = yield* orApiError(apiKeys.list(organizationId))
          return { data: records.map(view) }
        }),
      )
      .handle("revoke", ({ params }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const revoked = yield* orApiError(apiKeys.revoke(params.id))
          if (Option.isNone(revoked)) {
            return yield* Effect.fail(
              apiError(404, "api_key_not_found", `No API key has id ${params.id}.`),
            )
          }
        }),
      )
  }),
)
