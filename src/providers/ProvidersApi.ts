/**
 * `/v1/providers`: the OAuth applications and webhook senders the service
 * works with. Managed with the admin key; organization keys may read them.
 * Secrets are write-only: responses say whether one is set, never its value.
 */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { ApiErrors, Authentication } from "../http/Authentication.ts"

export const ProviderKey = Schema.String.check(
  Schema.makeFilter(
    (value) =>
      /^[a-z0-9][a-z0-9_-]{0,62}$/.test(value) ||
      "Expected 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit",
  ),
)

const Secret = Schema.RedactedFromValue(Schema.String)
const JsonObject = Schema.Record(Schema.String, Schema.Unknown)

export const ProviderPayload = Schema.Struct({
  template: Schema.String.annotate({
    description: "Catalog template key such as google or slack; oauth2 is generic",
  }),
  client_id: Schema.optional(Schema.String),
  client_secret: Schema.optional(Secret).annotate({
    description: "Write-only; omitted on a replace, the stored secret is kept",
  }),
  scopes: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  authorization_url: Schema.optional(Schema.String),
  token_url: Schema.optional(Schema.String),
  revocation_url: Schema.optional(Schema.String),
  webhook_secret: Schema.optional(Secret).annotate({
    description: "Write-only; omitted on a replace, the stored secrets are kept",
  }),
  webhook_secret_previous: Schema.optional(Schema.NullOr(Secret)).annotate({
    description: "A second secret accepted during a rotation; null ends the rotation",
  }),
  keep_previous_webhook_secret: Schema.optional(Schema.Boolean).annotate({
    description: "When true and webhook_secret changes, the old secret stays valid as previous",
  }),
  destination_url: Schema.optional(Schema.String),
  quirks: Schema.optional(JsonObject).annotate({
    description: "Overrides of catalog quirks by name, such as clientAuthentication",
  }),
  webhook: Schema.optional(JsonObject).annotate({
    description: "Options of the webhook scheme, such as audience, email and jwks for Pub/Sub",
  }),
})

export const ProviderView = Schema.Struct({
  key: Schema.String,
  template: Schema.String,
  display_name: Schema.String,
  client_id: Schema.NullOr(Schema.String),
  has_client_secret: Schema.Boolean,
  scopes: Schema.Array(Schema.String),
  authorization_url: Schema.NullOr(Schema.String),
  token_url: Schema.NullOr(Schema.String),
  revocation_url: Schema.NullOr(Schema.String),
  destination_url: Schema.NullOr(Schema.String),
  quirks: JsonObject,
  webhook: Schema.NullOr(
    Schema.Struct({
      scheme: Schema.String,
      has_secret: Schema.Boolean,
      has_previous_secret: Schema.Boolean,
      options: JsonObject,
    }),
  ),
  created_at: Schema.String,
  updated_at: Schema.String,
})

export const ProvidersGroup = HttpApiGroup.make("providers")
  .add(
    HttpApiEndpoint.put("put", "/providers/:key", {
      params: { key: ProviderKey },
      payload: ProviderPayload,
      success: ProviderView,
    }),
  )
  .add(
    HttpApiEndpoint.get("list", "/providers", {
      success: Schema.Struct({ data: Schema.Array(ProviderView) }),
    }),
  )
  .add(
    HttpApiEndpoint.get("get", "/providers/:key", {
      params: { key: ProviderKey },
      success: ProviderView,
    }),
  )
  .add(
    HttpApiEndpoint.delete("remove", "/providers/:key", {
      params: { key: ProviderKey },
      success: HttpApiSchema.NoContent,
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")
