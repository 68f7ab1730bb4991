/**
 * Analytics events: one record for each webhook delivery outcome, OAuth flow
 * stage, code exchange, token refresh and revocation.
 *
 * Producers encode an event as JSON with `encodeEvent` and append it to the
 * analytics stream. The batch writer decodes it with `decodeEvent` and
 * inserts it into the raw table of its kind. Field names are the ClickHouse
 * column names. Latencies are milliseconds and `time` is milliseconds since
 * the Unix epoch (UTC).
 */
import { Schema } from "effect"

const EventId = Schema.String.check(Schema.isUUID())

/** 2106-01-01T00:00:00Z; the aggregate tables' `DateTime` buckets end on 2106-02-07. */
const MAX_TIME = 4_291_747_200_000

/** Milliseconds since the Unix epoch, UTC, before 2106. */
const EpochMillis = Schema.Number.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 0, maximum: MAX_TIME, exclusiveMaximum: true }),
)

/** A duration in milliseconds. */
const Millis = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0))

/** A short snake_case cause such as `signature_mismatch`; empty or absent when none applies. */
const Reason = Schema.String.check(Schema.isMaxLength(200))

/** Fields that every event carries. */
const common = {
  /** Unique per event; a redelivered event keeps its id, so counts can ignore repeats. */
  event_id: EventId,
  time: EpochMillis,
  provider: Schema.NonEmptyString,
  /** Empty when the event precedes any organization, e.g. a rejected webhook. */
  organization_id: Schema.String,
  /** Empty when the event is not tied to one integration. */
  integration_id: Schema.String,
}

export const WebhookOutcome = Schema.Literals([
  "received",
  "accepted",
  "rejected",
  "duplicate",
  "delivered",
  "failed",
  "dead_lettered",
])
export type WebhookOutcome = typeof WebhookOutcome.Type

export const WebhookEvent = Schema.Struct({
  kind: Schema.Literal("webhook"),
  ...common,
  endpoint_id: Schema.String,
  outcome: WebhookOutcome,
  reason: Schema.optionalKey(Reason),
  /** The provider-given delivery or event id. */
  delivery_id: Schema.optionalKey(Schema.String),
  /** Time from the first request byte to the 2xx acknowledgement. */
  ack_ms: Schema.optionalKey(Millis),
  /** Time the handler or destination took for one delivery attempt. */
  processing_ms: Schema.optionalKey(Millis),
  /** 1-based delivery attempt; 0 for outcomes of the ingest step. */
  attempt: Schema.optionalKey(
    Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 65535 })),
  ),
})
export type WebhookEvent = typeof WebhookEvent.Type

export const OAuthFlowStage = Schema.Literals(["started", "callback"])
export const OAuthFlowOutcome = Schema.Literals(["connected", "denied", "failed"])

/** One OAuth authorization flow stage; `outcome` is set on the `callback` stage only. */
export const OAuthFlowEvent = Schema.Struct({
  kind: Schema.Literal("oauth_flow"),
  ...common,
  stage: OAuthFlowStage,
  outcome: Schema.optionalKey(OAuthFlowOutcome),
  reason: Schema.optionalKey(Reason),
  /** Time from the provider's redirect to the response that ends the flow. */
  callback_ms: Schema.optionalKey(Millis),
}).check(
  Schema.makeFilter((event) =>
    (event.stage === "callback") === (event.outcome !== undefined)
      ? undefined
      : "outcome is required on the callback stage and absent on the started stage",
  ),
)
export type OAuthFlowEvent = typeof OAuthFlowEvent.Type

/** The authorization code exchange at the token endpoint (RFC 6749 section 4.1.3). */
export const TokenExchangeEvent = Schema.Struct({
  kind: Schema.Literal("token_exchange"),
  ...common,
  outcome: Schema.Literals(["success", "failed"]),
  reason: Schema.optionalKey(Reason),
  exchange_ms: Schema.optionalKey(Millis),
})
export type TokenExchangeEvent = typeof TokenExchangeEvent.Type

export const TokenRefreshOutcome = Schema.Literals(["success", "failed", "needs_reauth"])
export const TokenRefreshTrigger = Schema.Literals(["on_demand", "background", "keep_alive"])

/** A refresh token grant (RFC 6749 section 6). */
export const TokenRefreshEvent = Schema.Struct({
  kind: Schema.Literal("token_refresh"),
  ...common,
  outcome: TokenRefreshOutcome,
  reason: Schema.optionalKey(Reason),
  refresh_ms: Schema.optionalKey(Millis),
  trigger: TokenRefreshTrigger,
})
export type TokenRefreshEvent = typeof TokenRefreshEvent.Type

/** A token revocation request (RFC 7009). */
export const RevocationEvent = Schema.Struct({
  kind: Schema.Literal("revocation"),
  ...common,
  token_type_hint: Schema.Literals(["access_token", "refresh_token"]),
  outcome: Schema.Literals(["revoked", "already_revoked", "queued", "failed"]),
  reason: Schema.optionalKey(Reason),
})
export type RevocationEvent = typeof RevocationEvent.Type

export const AnalyticsEvent = Schema.Union([
  WebhookEvent,
  OAuthFlowEvent,
  TokenExchangeEvent,
  TokenRefreshEvent,
  RevocationEvent,
])
export type AnalyticsEvent = typeof AnalyticsEvent.Type

export type EventKind = AnalyticsEvent["kind"]

export const EVENT_KINDS: ReadonlyArray<EventKind> = [
  "webhook",
  "oauth_flow",
  "token_exchange",
  "token_refresh",
  "revocation",
]

const AnalyticsEventJson = Schema.fromJsonString(AnalyticsEvent)

/**
 * Decodes one stream payload. Fails with a `SchemaError` whose message names
 * the invalid field; the payload itself is never part of the message.
 */
export const decodeEvent = Schema.decodeUnknownEffect(AnalyticsEventJson)

/** Encodes an event as the stream payload, checking it against its schema. */
export const encodeEvent = Schema.encodeSync(AnalyticsEventJson)
