/**
 * `/v1/connect-sessions` starts an authorization; `/v1/integrations` lists
 * connections, hands out access tokens and disconnects. A key scoped to one
 * organization reads only that organization's integrations, and the ids of
 * other organizations return 404, as if they did not exist.
 */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { ApiErrors, Authentication } from "../http/Authentication.ts"
import { OrganizationId, Uuid } from "../http/Schemas.ts"

export const ConnectSessionPayload = Schema.Struct({
  organization_id: OrganizationId,
  provider: Schema.String,
  redirect_url: Schema.String.check(Schema.isMaxLength(2048)).annotate({
    description:
      "Where the user returns after consent; its origin must be in ALLOWED_REDIRECT_ORIGINS",
  }),
  scopes: Schema.optional(Schema.Array(Schema.String)).annotate({
    description: "Scopes added to the provider's required and configured scopes",
  }),
  metadata: Schema.optional(
    Schema.Record(Schema.String, Schema.Unknown).check(
      Schema.makeFilter(
        (value) =>
          (JSON.stringify(value).length <= 16_384 && !JSON.stringify(value).includes("\\u0000")) ||
          "Expected at most 16 KB of JSON without NUL characters",
      ),
    ),
  ).annotate({
    description: "Values such as shop (Shopify) or tenant (Microsoft); stored with the integration",
  }),
})

export const ConnectSessionView = Schema.Struct({
  id: Schema.String,
  authorization_url: Schema.String,
  expires_at: Schema.String,
})

export const IntegrationStatusSchema = Schema.Literals([
  "connected",
  "needs_reauth",
  "disconnected",
])

export const IntegrationView = Schema.Struct({
  id: Schema.String,
  organization_id: Schema.String,
  provider: Schema.String,
  status: IntegrationStatusSchema,
  status_reason: Schema.NullOr(Schema.String),
  scopes: Schema.Array(Schema.String),
  external_id: Schema.NullOr(Schema.String),
  expires_at: Schema.NullOr(Schema.String),
  can_refresh: Schema.Boolean,
  created_at: Schema.String,
  updated_at: Schema.String,
  pending_revocations: Schema.optionalKey(Schema.Number).annotate({
    description: "Tokens still queued for revocation at the provider; single reads only",
  }),
})

export const TokenView = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.String,
  expires_at: Schema.NullOr(Schema.String),
  scopes: Schema.Array(Schema.String),
})

export const ConnectSessionsGroup = HttpApiGroup.make("connectSessions")
  .add(
    HttpApiEndpoint.post("create", "/connect-sessions", {
      payload: ConnectSessionPayload,
      success: ConnectSessionView.pipe(HttpApiSchema.status(201)),
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")

export const IntegrationsGroup = HttpApiGroup.make("integrations")
  .add(
    HttpApiEndpoint.get("list", "/integrations", {
      query: {
        organization_id: Schema.optional(OrganizationId),
        provider: Schema.optional(Schema.String),
        status: Schema.optional(IntegrationStatusSchema),
        cursor: Schema.optional(Schema.String),
        limit: Schema.optional(Schema.NumberFromString),
      },
      success: Schema.Struct({
        data: Schema.Array(IntegrationView),
        next_cursor: Schema.NullOr(Schema.String),
      }),
    }),
  )
  .add(
    HttpApiEndpoint.get("get", "/integrations/:id", {
      params: { id: Uuid },
      success: IntegrationView,
    }),
  )
  .add(
    HttpApiEndpoint.post("token", "/integrations/:id/token", {
      params: { id: Uuid },
      // An empty body decodes as null, so callers may POST without one.
      payload: [Schema.Struct({ force_refresh: Schema.optional(Schema.Boolean) }), Schema.Null],
      success: TokenView,
    }),
  )
  .add(
    HttpApiEndpoint.delete("disconnect", "/integrations/:id", {
      params: { id: Uuid },
      success: HttpApiSchema.NoContent,
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")
