/**
 * Analytics events: one record for each webhook delivery outcome, OAuth flow
 * stage, code exchange, token refresh and revocation.
 *
 * Producers append events to the analytics stream, one event per entry
 * (`encodeEvent`) or up to `MAX_EVENTS_PER_ENTRY` in one entry as a JSON
 * array (`encodeEventBatch`), which costs the stream one entry instead of
 * many. The batch writer decodes either shape with `decodeEntry` and inserts
 * each event into the raw table of its kind. Field names are the ClickHouse
 * column names. Latencies are milliseconds and `time` is milliseconds since
 * the Unix epoch (UTC).
 */
import { Result, Schema } from "effect"

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

/** Encodes an event as the stream payload, checking it against its schema. */
export const encodeEvent = Schema.encodeSync(AnalyticsEventJson)

/** Most events one stream entry may carry; the writer dead-letters a longer array. */
export const MAX_EVENTS_PER_ENTRY = 100

const encodeOne = Schema.encodeSync(AnalyticsEvent)
const decodeOne = Schema.decodeUnknownResult(AnalyticsEvent)

/**
 * Encodes up to `MAX_EVENTS_PER_ENTRY` events as one stream payload, a JSON
 * array, checking each against its schema.
 */
export const encodeEventBatch = (events: ReadonlyArray<AnalyticsEvent>): string => {
  if (events.length > MAX_EVENTS_PER_ENTRY) {
    throw new RangeError(`an entry carries at most ${MAX_EVENTS_PER_ENTRY} events`)
  }
  return JSON.stringify(events.map((event) => encodeOne(event)))
}

/** One event of an entry that could not be decoded, and why; never the payload itself. */
export interface InvalidEvent {
  /** Position in the entry's array; 0 for an entry of one event. */
  readonly index: number
  readonly message: string
}

export interface DecodedEntry {
  readonly events: ReadonlyArray<AnalyticsEvent>
  readonly invalid: ReadonlyArray<InvalidEvent>
}

const invalidEntry = (message: string): DecodedEntry => ({
  events: [],
  invalid: [{ index: 0, message }],
})

/**
 * Decodes one stream payload, either shape. Each event of an array is
 * checked on its own, so one invalid event does not cost the others.
 */
export const decodeEntry = (payload: string): DecodedEntry => {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    // The parser's message quotes the payload, so it is not passed on.
    return invalidEntry("the entry is not JSON")
  }
  if (!Array.isArray(parsed)) {
    const one = decodeOne(parsed)
    return Result.isSuccess(one)
      ? { events: [one.success], invalid: [] }
      : invalidEntry(one.failure.message)
  }
  if (parsed.length > MAX_EVENTS_PER_ENTRY) {
    return invalidEntry(
      `the entry carries ${parsed.length} events, more than ${MAX_EVENTS_PER_ENTRY}`,
    )
  }
  const events: Array<AnalyticsEvent> = []
  const invalid: Array<InvalidEvent> = []
  parsed.forEach((item, index) => {
    const one = decodeOne(item)
    if (Result.isSuccess(one)) events.push(one.success)
    else invalid.push({ index, message: one.failure.message })
  })
  return { events, invalid }
}
