/**
 * The ClickHouse tables behind each event kind and the mapping from an event
 * to a row of its raw table. The DDL lives in `schema/clickhouse/`; the names
 * here must match it.
 */
import type { AnalyticsEvent, EventKind } from "./Events.ts"

export interface EventTables {
  /** Raw events, one row per event. */
  readonly raw: string
  /** Per-minute aggregate states, filled by a materialized view on `raw`. */
  readonly minute: string
  /** Per-hour aggregate states, filled by a materialized view on `raw`. */
  readonly hour: string
}

const tablesOf = (kind: EventKind): EventTables => ({
  raw: `${kind}_events`,
  minute: `${kind}_stats_1m`,
  hour: `${kind}_stats_1h`,
})

export const TABLES: Readonly<Record<EventKind, EventTables>> = {
  webhook: tablesOf("webhook"),
  oauth_flow: tablesOf("oauth_flow"),
  token_exchange: tablesOf("token_exchange"),
  token_refresh: tablesOf("token_refresh"),
  revocation: tablesOf("revocation"),
}

/** A row in the JSONEachRow shape that both adapters insert. */
export type Row = Readonly<Record<string, string | number | null>>

/**
 * Formats epoch milliseconds as `YYYY-MM-DD hh:mm:ss.sss` in UTC, the text
 * form that every `date_time_input_format` accepts for `DateTime64(3, 'UTC')`.
 */
export const formatDateTime64 = (millis: number): string =>
  new Date(millis).toISOString().replace("T", " ").replace("Z", "")

/** Maps an event to its raw table and row; absent optional fields become `''` or `NULL`. */
export const toRow = (event: AnalyticsEvent): { readonly table: string; readonly row: Row } => {
  const common = {
    event_id: event.event_id,
    time: formatDateTime64(event.time),
    provider: event.provider,
    organization_id: event.organization_id,
    integration_id: event.integration_id,
    reason: event.reason ?? "",
  }
  const table = TABLES[event.kind].raw
  switch (event.kind) {
    case "webhook":
      return {
        table,
        row: {
          ...common,
          endpoint_id: event.endpoint_id,
          outcome: event.outcome,
          delivery_id: event.delivery_id ?? "",
          ack_ms: event.ack_ms ?? null,
          processing_ms: event.processing_ms ?? null,
          attempt: event.attempt ?? 0,
        },
      }
    case "oauth_flow":
      return {
        table,
        row: {
          ...common,
          stage: event.stage,
          outcome: event.outcome ?? "",
          callback_ms: event.callback_ms ?? null,
        },
      }
    case "token_exchange":
      return {
        table,
        row: { ...common, outcome: event.outcome, exchange_ms: event.exchange_ms ?? null },
      }
    case "token_refresh":
      return {
        table,
        row: {
          ...common,
          outcome: event.outcome,
          trigger: event.trigger,
          refresh_ms: event.refresh_ms ?? null,
        },
      }
    case "revocation":
      return {
        table,
        row: { ...common, token_type_hint: event.token_type_hint, outcome: event.outcome },
      }
  }
}
