/**
 * `/v1/webhooks`: webhook endpoints with their own secrets, dead letters
 * (list, replay one, replay all) and the per provider and endpoint counters.
 * Admin key only. Dead letters include the
 * event body and the kept headers, which never contain a signature or token.
 */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { ApiErrors, Authentication } from "../http/Authentication.ts"
import { Uuid } from "../http/Schemas.ts"

const StreamId = Schema.String.check(
  Schema.makeFilter(
    (value) =>
      /^[0-9]{1,20}-[0-9]{1,20}$/.test(value) ||
      "Expected a stream entry id such as 1700000000000-0",
  ),
)

const Limit = Schema.NumberFromString.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 1, maximum: 500 }),
)

export const DeadLetterView = Schema.Struct({
  id: Schema.String.annotate({ description: "Dead-letter entry id; pass it to replay" }),
  event_id: Schema.String.annotate({ description: "Sent to the destination as webhook-id" }),
  provider: Schema.String,
  endpoint_id: Schema.NullOr(Schema.String),
  delivery_id: Schema.NullOr(Schema.String),
  routing_key: Schema.NullOr(Schema.String),
  event_type: Schema.NullOr(Schema.String),
  received_at: Schema.NullOr(Schema.String),
  dead_lettered_at: Schema.String,
  attempts: Schema.Number,
  last_error: Schema.String,
  last_status: Schema.NullOr(Schema.Number),
  headers: Schema.Record(Schema.String, Schema.String),
  body: Schema.String,
  body_encoding: Schema.Literals(["utf8", "base64"]),
})

export const WebhookCounterView = Schema.Struct({
  provider: Schema.String,
  endpoint_id: Schema.NullOr(Schema.String),
  received: Schema.Number,
  accepted: Schema.Number,
  rejected: Schema.Number,
  rejected_by_reason: Schema.Record(Schema.String, Schema.Number),
  duplicates: Schema.Number,
  delivered: Schema.Number,
  failed: Schema.Number.annotate({ description: "Failed delivery attempts, retried or not" }),
  dead_lettered: Schema.Number,
  updated_at: Schema.String,
})

const Secret = Schema.RedactedFromValue(Schema.String)

export const EndpointPayload = Schema.Struct({
  provider: Schema.String,
  integration_id: Schema.optional(Uuid).annotate({
    description: "The integration every event of this endpoint belongs to",
  }),
  secret: Schema.optional(Secret).annotate({
    description:
      "Write-only. The endpoint's signing secret, or a Google channel's token; " +
      "without one the provider's secret is used",
  }),
  previous_secret: Schema.optional(Secret).annotate({
    description: "Write-only. A second secret accepted during a rotation",
  }),
  options: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)).annotate({
    description:
      "Scheme options over the provider's; for Google channels channelId (default: the " +
      "endpoint id) and resourceId",
  }),
})

export const EndpointView = Schema.Struct({
  id: Schema.String,
  provider: Schema.String,
  integration_id: Schema.NullOr(Schema.String),
  has_secret: Schema.Boolean,
  has_previous_secret: Schema.Boolean,
  options: Schema.Record(Schema.String, Schema.Unknown),
  url_path: Schema.String.annotate({ description: "Path the provider delivers to" }),
})

export const WebhooksGroup = HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("createEndpoint", "/webhooks/endpoints", {
      payload: EndpointPayload,
      success: EndpointView.pipe(HttpApiSchema.status(201)),
    }),
  )
  .add(
    HttpApiEndpoint.get("listEndpoints", "/webhooks/endpoints", {
      query: { provider: Schema.optional(Schema.String) },
      success: Schema.Struct({ data: Schema.Array(EndpointView) }),
    }),
  )
  .add(
    HttpApiEndpoint.delete("removeEndpoint", "/webhooks/endpoints/:id", {
      params: { id: Uuid },
      success: HttpApiSchema.NoContent,
    }),
  )
  .add(
    HttpApiEndpoint.get("listDeadLetters", "/webhooks/dead-letters", {
      query: {
        provider: Schema.optional(Schema.String),
        limit: Schema.optional(Limit),
        cursor: Schema.optional(StreamId),
      },
      success: Schema.Struct({
        data: Schema.Array(DeadLetterView),
        next_cursor: Schema.NullOr(Schema.String),
      }),
    }),
  )
  .add(
    HttpApiEndpoint.post("replayDeadLetter", "/webhooks/dead-letters/:id/replay", {
      params: { id: StreamId },
      success: Schema.Struct({ replayed: Schema.Number }),
    }),
  )
  .add(
    HttpApiEndpoint.post("replayDeadLetters", "/webhooks/dead-letters/replay", {
      query: { provider: Schema.optional(Schema.String) },
      success: Schema.Struct({ replayed: Schema.Number, skipped: Schema.Number }),
    }),
  )
  .add(
    HttpApiEndpoint.get("counters", "/webhooks/counters", {
      query: { provider: Schema.optional(Schema.String) },
      success: Schema.Struct({ data: Schema.Array(WebhookCounterView) }),
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")
