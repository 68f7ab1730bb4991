/** The in-memory analytics buffer: batches, its bound, a failing sink and the final flush. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeEventBuffer } from "../../src/analytics/EventBuffer.ts"
import type { AnalyticsEvent } from "../../src/analytics/Events.ts"

const event = (n: number): AnalyticsEvent => ({
  kind: "oauth_flow",
  event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  time: 1_700_000_000_000 + n,
  provider: "buffer-test",
  organization_id: "",
  integration_id: "",
  stage: "started",
})

describe("makeEventBuffer", () => {
  it.effect("hands events over in one batch", () =>
    Effect.gen(function* () {
      const batches: Array<ReadonlyArray<AnalyticsEvent>> = []
      const buffer = yield* makeEventBuffer((events) => Effect.sync(() => batches.push(events)), {
        flushInterval: "1 hour",
      })
      for (let n = 0; n < 5; n++) buffer.record(event(n))
      yield* buffer.flush
      yield* buffer.flush
      expect(batches.map((batch) => batch.length)).toEqual([5])
    }).pipe(Effect.scoped),
  )

  it.effect("drops events past its bound", () =>
    Effect.gen(function* () {
      const received: Array<AnalyticsEvent> = []
      const buffer = yield* makeEventBuffer(
        (events) => Effect.sync(() => received.push(...events)),
        { flushInterval: "1 hour", maxBuffered: 3 },
      )
      for (let n = 0; n < 10; n++) buffer.record(event(n))
      yield* buffer.flush
      expect(received.map((item) => item.time)).toEqual([0, 1, 2].map((n) => event(n).time))
    }).pipe(Effect.scoped),
  )

  it.effect("outlives a failing sink, flushes on close", () =>
    Effect.gen(function* () {
      const received: Array<AnalyticsEvent> = []
      let failing = true
      yield* Effect.scoped(
        Effect.gen(function* () {
          const buffer = yield* makeEventBuffer(
            (events) =>
              failing
                ? Effect.fail(new Error("stream store down"))
                : Effect.sync(() => received.push(...events)),
            { flushInterval: "1 hour" },
          )
          buffer.record(event(1))
          yield* buffer.flush
          failing = false
          buffer.record(event(2))
        }),
      )
      expect(received.map((item) => item.time)).toEqual([event(2).time])
    }),
  )
})
