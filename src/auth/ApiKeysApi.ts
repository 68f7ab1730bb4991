/** `/v1/api-keys`: organization-scoped API keys, managed with the admin key. */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { ApiErrors, Authentication } from "../http/Authentication.ts"
import { OrganizationId, Uuid } from "../http/Schemas.ts"

export const ApiKeyView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  organization_id: Schema.String,
  key_prefix: Schema.String,
  created_at: Schema.String,
  revoked_at: Schema.NullOr(Schema.String),
  last_used_at: Schema.NullOr(Schema.String),
})

export const CreatedApiKey = Schema.Struct({
  ...ApiKeyView.fields,
  key: Schema.String.annotate({ description: "The key itself; shown only in this response" }),
})

export const ApiKeysGroup = HttpApiGroup.make("apiKeys")
  .add(
    HttpApiEndpoint.post("create", "/api-keys", {
      payload: Schema.Struct({
        organization_id: OrganizationId,
        name: Schema.String.check(Schema.isMaxLength(200)),
      }),
      success: CreatedApiKey.pipe(HttpApiSchema.status(201)),
    }),
  )
  .add(
    HttpApiEndpoint.get("list", "/api-keys", {
      query: { organization_id: Schema.optional(OrganizationId) },
      success: Schema.Struct({ data: Schema.Array(ApiKeyView) }),
    }),
  )
  .add(
    HttpApiEndpoint.delete("revoke", "/api-keys/:id", {
      params: { id: Uuid },
      success: HttpApiSchema.NoContent,
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")
