/** `/v1/analytics`: webhook and OAuth aggregates, read from the ClickHouse aggregate tables. */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
import { ApiErrors, Authentication } from "../http/Authentication.ts"

const Percentile = Schema.NullOr(Schema.Number)

export const StatsQuery = {
  from: Schema.optional(Schema.String).annotate({
    description: "Start of the range, ISO 8601, inclusive; 24 hours before `to` when absent",
  }),
  to: Schema.optional(Schema.String).annotate({
    description: "End of the range, ISO 8601, exclusive; now when absent",
  }),
  interval: Schema.optional(Schema.Literals(["minute", "hour", "day"])).annotate({
    description: "Bucket size; hour when absent",
  }),
  provider: Schema.optional(Schema.String),
  organization_id: Schema.optional(Schema.String).annotate({
    description: "Ignored for organization-scoped keys, which see only their organization",
  }),
}

export const WebhookStatsView = Schema.Struct({
  bucket: Schema.String,
  provider: Schema.String,
  received: Schema.Number,
  accepted: Schema.Number,
  rejected: Schema.Number,
  duplicates: Schema.Number,
  delivered: Schema.Number,
  failed: Schema.Number,
  dead_lettered: Schema.Number,
  ack_ms_p50: Percentile,
  ack_ms_p95: Percentile,
  ack_ms_p99: Percentile,
  processing_ms_p50: Percentile,
  processing_ms_p95: Percentile,
  processing_ms_p99: Percentile,
})

export const OAuthStatsView = Schema.Struct({
  bucket: Schema.String,
  provider: Schema.String,
  started: Schema.Number,
  connected: Schema.Number,
  denied: Schema.Number,
  failed: Schema.Number,
  refresh_success: Schema.Number,
  refresh_failed: Schema.Number,
  refresh_needs_reauth: Schema.Number,
  callback_ms_p50: Percentile,
  callback_ms_p95: Percentile,
  callback_ms_p99: Percentile,
  refresh_ms_p50: Percentile,
  refresh_ms_p95: Percentile,
  refresh_ms_p99: Percentile,
})

export const AnalyticsGroup = HttpApiGroup.make("analytics")
  .add(
    HttpApiEndpoint.get("webhooks", "/analytics/webhooks", {
      query: StatsQuery,
      success: Schema.Struct({ data: Schema.Array(WebhookStatsView) }),
    }),
  )
  .add(
    HttpApiEndpoint.get("oauth", "/analytics/oauth", {
      query: StatsQuery,
      success: Schema.Struct({ data: Schema.Array(OAuthStatsView) }),
    }),
  )
  .middleware(ApiErrors)
  .middleware(Authentication)
  .prefix("/v1")
