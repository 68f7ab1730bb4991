/**
 * Holds analytics events in memory and hands them to a sink in batches from
 * a background fiber, so recording an event costs a request no I/O. The
 * buffer is bounded: past it, events are dropped and counted in a log line
 * rather than slowing the request. The scope's end flushes what is left.
 *
 * Events still in the buffer when the process dies are lost; the flush
 * interval bounds how many.
 */
import { type Duration, Effect, Schedule, type Scope } from "effect"
import type { AnalyticsEvent } from "./Events.ts"

export type AnalyticsSink = (events: ReadonlyArray<AnalyticsEvent>) => Effect.Effect<void, unknown>

export interface EventBufferOptions {
  /** How often the buffer is handed to the sink; 200 ms when absent. */
  readonly flushInterval?: Duration.Input | undefined
  /** Events held at most between flushes; 50,000 when absent. */
  readonly maxBuffered?: number | undefined
}

export interface EventBuffer {
  readonly record: (event: AnalyticsEvent) => void
  /** Hands the buffered events to the sink now. */
  readonly flush: Effect.Effect<void>
}

export const makeEventBuffer = (
  sink: AnalyticsSink,
  options: EventBufferOptions = {},
): Effect.Effect<EventBuffer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const maxBuffered = options.maxBuffered ?? 50_000
    let buffer: Array<AnalyticsEvent> = []
    let dropped = 0

    const flush = Effect.suspend(() => {
      const events = buffer
      const lost = dropped
      buffer = []
      dropped = 0
      const report =
        lost === 0
          ? Effect.void
          : Effect.logWarning("analytics buffer was full; events dropped").pipe(
              Effect.annotateLogs({ dropped: lost }),
            )
      if (events.length === 0) return report
      return Effect.andThen(
        report,
        sink(events).pipe(
          Effect.catchCause((cause) =>
            Effect.logWarning("analytics events dropped", cause).pipe(
              Effect.annotateLogs({ count: events.length }),
            ),
          ),
        ),
      )
    })

    yield* Effect.forkScoped(
      Effect.repeat(flush, Schedule.spaced(options.flushInterval ?? "200 millis")),
    )
    yield* Effect.addFinalizer(() => flush)

    return {
      record: (event) => {
        if (buffer.length < maxBuffered) buffer.push(event)
        else dropped += 1
      },
      flush,
    }
  })
