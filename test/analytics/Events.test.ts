/** The analytics event schemas and their mapping to raw table rows. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  type AnalyticsEvent,
  decodeEntry,
  encodeEvent,
  encodeEventBatch,
  MAX_EVENTS_PER_ENTRY,
} from "../../src/analytics/Events.ts"
import { formatDateTime64, toRow } from "../../src/analytics/Tables.ts"

const common = {
  event_id: "0b7e6a52-6f0e-4a39-9d3f-1c3f3e0a9b11",
  time: Date.UTC(2026, 5, 1, 12, 30, 15, 250),
  provider: "slack",
  organization_id: "org-1",
  integration_id: "",
}

const examples: ReadonlyArray<AnalyticsEvent> = [
  {
    kind: "webhook",
    ...common,
    endpoint_id: "ep-1",
    outcome: "accepted",
    delivery_id: "Ev123",
    ack_ms: 4.25,
  },
  { kind: "oauth_flow", ...common, stage: "started" },
  {
    kind: "oauth_flow",
    ...common,
    stage: "callback",
    outcome: "denied",
    reason: "access_denied",
    callback_ms: 120,
  },
  { kind: "token_exchange", ...common, outcome: "success", exchange_ms: 210.5 },
  {
    kind: "token_refresh",
    ...common,
    outcome: "needs_reauth",
    reason: "invalid_grant",
    trigger: "background",
  },
  { kind: "revocation", ...common, token_type_hint: "refresh_token", outcome: "already_revoked" },
]

/** Decodes a one-event entry that must be invalid and returns its only problem. */
const decodeFailure = (payload: unknown) =>
  Effect.sync(() => {
    const decoded = decodeEntry(typeof payload === "string" ? payload : JSON.stringify(payload))
    expect(decoded.events).toEqual([])
    expect(decoded.invalid).toHaveLength(1)
    return decoded.invalid[0]!
  })

describe("decodeEntry", () => {
  it("reads single and packed entries", () => {
    expect(decodeEntry(encodeEvent(examples[0]!))).toEqual({ events: [examples[0]], invalid: [] })
    expect(decodeEntry(encodeEventBatch(examples))).toEqual({ events: examples, invalid: [] })
  })

  it("names invalid packed events by index", () => {
    const items = examples.map((event) => JSON.parse(encodeEvent(event)))
    items.splice(2, 0, { ...items[0], time: -1 })
    const decoded = decodeEntry(JSON.stringify(items))
    expect(decoded.events).toEqual(examples)
    expect(decoded.invalid.map(({ index }) => index)).toEqual([2])
    expect(decoded.invalid[0]!.message).toContain("time")
  })

  it("rejects non-JSON without quoting it", () => {
    const decoded = decodeEntry("[secret-looking-text")
    expect(decoded.events).toEqual([])
    expect(decoded.invalid).toEqual([{ index: 0, message: "the entry is not JSON" }])
  })

  it("bounds the events per entry", () => {
    const items = Array.from({ length: MAX_EVENTS_PER_ENTRY + 1 }, () => examples[0]!)
    const decoded = decodeEntry(JSON.stringify(items))
    expect(decoded.events).toEqual([])
    expect(decoded.invalid[0]!.message).toContain(`${MAX_EVENTS_PER_ENTRY + 1} events`)
    expect(() => encodeEventBatch(items)).toThrow(RangeError)
  })
})

describe("decodeEntry with one event", () => {
  it("round-trips every event kind", () => {
    for (const event of examples) {
      expect(decodeEntry(encodeEvent(event)).events).toEqual([event])
    }
  })

  it.effect("rejects a payload that is not JSON", () =>
    Effect.gen(function* () {
      const error = yield* decodeFailure("{not json")
      expect(error.message).toContain("JSON")
    }),
  )

  it.effect("rejects an unknown kind", () =>
    Effect.gen(function* () {
      yield* decodeFailure({ ...examples[0], kind: "page_view" })
    }),
  )

  it.effect("rejects an event id that is not a UUID", () =>
    Effect.gen(function* () {
      const error = yield* decodeFailure({ ...examples[0], event_id: "42" })
      expect(error.message).toContain("event_id")
    }),
  )

  it.effect("rejects a time before 1970 or after 2105", () =>
    Effect.gen(function* () {
      const early = yield* decodeFailure({ ...examples[0], time: -1 })
      expect(early.message).toContain("time")
      const late = yield* decodeFailure({ ...examples[0], time: Date.UTC(2106, 0, 1) })
      expect(late.message).toContain("time")
    }),
  )

  it.effect("rejects a negative latency", () =>
    Effect.gen(function* () {
      const error = yield* decodeFailure({ ...examples[0], ack_ms: -3 })
      expect(error.message).toContain("ack_ms")
    }),
  )

  it.effect("rejects an unknown webhook outcome", () =>
    Effect.gen(function* () {
      const error = yield* decodeFailure({ ...examples[0], outcome: "lost" })
      expect(error.message).toContain("outcome")
    }),
  )

  it.effect("requires an outcome on the callback stage only", () =>
    Effect.gen(function* () {
      const missing = yield* decodeFailure({ ...examples[2], outcome: undefined })
      expect(missing.message).toContain("callback stage")
      const extra = yield* decodeFailure({ ...examples[1], outcome: "connected" })
      expect(extra.message).toContain("started stage")
    }),
  )

  it.effect("rejects an empty provider", () =>
    Effect.gen(function* () {
      const error = yield* decodeFailure({ ...examples[3], provider: "" })
      expect(error.message).toContain("provider")
    }),
  )
})

describe("toRow", () => {
  it("formats the time as DateTime64(3) text in UTC", () => {
    expect(formatDateTime64(common.time)).toBe("2026-06-01 12:30:15.250")
  })

  it("fills absent optional webhook fields with empty strings and NULL", () => {
    const { table, row } = toRow({
      kind: "webhook",
      ...common,
      endpoint_id: "ep-1",
      outcome: "received",
    })
    expect(table).toBe("webhook_events")
    expect(row).toEqual({
      event_id: common.event_id,
      time: "2026-06-01 12:30:15.250",
      provider: "slack",
      organization_id: "org-1",
      integration_id: "",
      reason: "",
      endpoint_id: "ep-1",
      outcome: "received",
      delivery_id: "",
      ack_ms: null,
      processing_ms: null,
      attempt: 0,
    })
  })

  it("writes an empty outcome for the started stage", () => {
    const { table, row } = toRow(examples[1]!)
    expect(table).toBe("oauth_flow_events")
    expect(row.outcome).toBe("")
    expect(row.callback_ms).toBeNull()
  })

  it("routes each kind to its raw table", () => {
    expect(examples.map((event) => toRow(event).table)).toEqual([
      "webhook_events",
      "oauth_flow_events",
      "oauth_flow_events",
      "token_exchange_events",
      "token_refresh_events",
      "revocation_events",
    ])
  })
})
