/**
 * Moves analytics events from a durable stream into ClickHouse in
 * micro-batches, one batch per raw table.
 *
 * A stream entry carries one event or an array of them. A table's batch is
 * inserted when it contains `maxRows` events or its oldest event has waited
 * `maxDelay`, whichever comes first. Each insert carries a deduplication
 * token derived from the stream entry ids and each event's place in its
 * entry, and an entry is acknowledged only after every one of its events was
 * inserted. A failed insert is retried
 * with exponential backoff and jitter while the writer holds its entries and
 * reads nothing more, so memory stays bounded and the backlog waits in the
 * stream. Delivery is at least once: entries of a batch whose insert
 * succeeded but whose acknowledgement was lost come back after a restart,
 * and the token (same entries, same batch) or the distinct-id aggregate
 * states keep them from being counted twice.
 */
import { createHash } from "node:crypto"
import { Clock, Duration, Effect, Metric, Random } from "effect"
import { ClickHouse } from "./ClickHouse.ts"
import type { ClickHouseError } from "./ClickHouseError.ts"
import { decodeEntry, MAX_EVENTS_PER_ENTRY } from "./Events.ts"
import { type Row, toRow } from "./Tables.ts"
import * as WriterMetrics from "./WriterMetrics.ts"

/** One entry of the analytics stream. */
export interface StreamEntry {
  readonly id: string
  /** One event encoded by `encodeEvent`, or an array of them by `encodeEventBatch`. */
  readonly payload: string
  /** How often the stream has handed out this entry, this time included. */
  readonly deliveries: number
}

/**
 * The writer's view of a stream consumer group. `read` must hand out again,
 * sooner or later, every entry that was read and never acknowledged: after a
 * restart, or by claiming entries left pending by a stopped consumer.
 */
export interface EventSource<E> {
  /** Reads up to `count` entries, waiting up to `block` when none is ready. */
  readonly read: (
    count: number,
    block: Duration.Duration,
  ) => Effect.Effect<ReadonlyArray<StreamEntry>, E>
  readonly ack: (ids: ReadonlyArray<string>) => Effect.Effect<void, E>
}

export interface BatchWriterOptions {
  /** Events per insert, at most; 5000 when absent. */
  readonly maxRows?: number
  /** Maximum time an event waits before its batch is inserted; 1 second when absent. */
  readonly maxDelay?: Duration.Input
  /** First retry delay after a failed insert, read or ack; 100 ms when absent. */
  readonly retryBase?: Duration.Input
  /** Maximum retry delay; 30 seconds when absent. */
  readonly retryMax?: Duration.Input
  /**
   * Receives each entry that is not a valid event, with the reason. The entry
   * is acknowledged afterwards, even when this effect fails.
   */
  readonly deadLetter?: (entry: StreamEntry, reason: string) => Effect.Effect<void, unknown>
}

interface Buffered {
  /** The stream entry that carried the event. */
  readonly entryId: string
  /** The entry id and the event's place in it; what the batch token is made of. */
  readonly key: string
  readonly row: Row
  /** Event time, epoch milliseconds. */
  readonly time: number
  /** When the writer read the entry, epoch milliseconds. */
  readonly readAt: number
}

/** Derives the insert deduplication token of a batch from its table and event keys. */
export const batchToken = (table: string, keys: ReadonlyArray<string>): string => {
  const hash = createHash("sha256").update(table)
  for (const key of [...keys].sort()) hash.update("\n").update(key)
  return hash.digest("hex")
}

/**
 * Entries per read. An entry carries at most `MAX_EVENTS_PER_ENTRY` events,
 * so one read adds at most `max(maxRows, MAX_EVENTS_PER_ENTRY)` events, and
 * a table's buffer stays under `maxRows` plus that.
 */
const entriesPerRead = (maxRows: number) => Math.max(1, Math.floor(maxRows / MAX_EVENTS_PER_ENTRY))

const logDeadLetter = (entry: StreamEntry, reason: string) =>
  Effect.logWarning("Dropped an invalid analytics event").pipe(
    Effect.annotateLogs({ entryId: entry.id, reason }),
  )

/**
 * Runs the writer until interrupted. Interruption abandons the buffered and
 * in-flight entries without acknowledging them, so the stream delivers them
 * again.
 */
export const run = <E>(
  source: EventSource<E>,
  options: BatchWriterOptions = {},
): Effect.Effect<never, never, ClickHouse> =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const maxRows = options.maxRows ?? 5000
    const maxDelayMillis = Duration.toMillis(options.maxDelay ?? "1 second")
    const retryBaseMillis = Duration.toMillis(options.retryBase ?? "100 millis")
    const retryMaxMillis = Duration.toMillis(options.retryMax ?? "30 seconds")
    const deadLetter = options.deadLetter ?? logDeadLetter
    const buffers = new Map<string, Array<Buffered>>()
    /** Events of each read entry not yet inserted; an entry is acknowledged at zero. */
    const unwritten = new Map<string, number>()
    let buffered = 0

    /** Runs `attempt` until it succeeds, sleeping with exponential backoff and jitter between tries. */
    const retrying = <A, X>(
      attempt: Effect.Effect<A, X>,
      onFailure: (error: X, failures: number) => Effect.Effect<void>,
    ): Effect.Effect<A> =>
      Effect.gen(function* () {
        let failures = 0
        while (true) {
          const result = yield* Effect.result(attempt)
          if (result._tag === "Success") {
            if (failures > 0) {
              yield* Effect.logInfo("Analytics stream or ClickHouse recovered").pipe(
                Effect.annotateLogs({ failures }),
              )
            }
            return result.success
          }
          failures += 1
          yield* onFailure(result.failure, failures)
          const ceiling = Math.min(
            retryMaxMillis,
            retryBaseMillis * 2 ** Math.min(failures - 1, 30),
          )
          // Equal jitter: half the delay is fixed, half random, so writers
          // that failed together do not retry together.
          const delay = ceiling / 2 + (yield* Random.next) * (ceiling / 2)
          yield* Effect.sleep(Duration.millis(delay))
        }
      })

    /** Logs the 1st, 2nd, 4th, 8th, ... consecutive failure, so an outage logs a few lines. */
    const logFailure =
      (message: string, annotations: Record<string, unknown>) =>
      (error: unknown, failures: number) =>
        (failures & (failures - 1)) === 0
          ? Effect.logWarning(message).pipe(
              Effect.annotateLogs({ ...annotations, failures, error: String(error) }),
            )
          : Effect.void

    const ack = (ids: ReadonlyArray<string>) =>
      retrying(
        source.ack(ids),
        logFailure("Acknowledging analytics events failed", { count: ids.length }),
      )

    const setBuffered = (delta: number) => {
      buffered += delta
      return Metric.update(WriterMetrics.bufferedEvents, buffered)
    }

    /** Counts the batch's events as written; returns the entries that have none left. */
    const written = (batch: ReadonlyArray<Buffered>) => {
      const done: Array<string> = []
      for (const { entryId } of batch) {
        const left = (unwritten.get(entryId) ?? 1) - 1
        if (left > 0) {
          unwritten.set(entryId, left)
        } else {
          unwritten.delete(entryId)
          done.push(entryId)
        }
      }
      return done
    }

    const insert = (table: string, batch: ReadonlyArray<Buffered>) => {
      const token = batchToken(
        table,
        batch.map((entry) => entry.key),
      )
      const rows = batch.map((entry) => entry.row)
      // NOTE: a batch that ClickHouse rejects for its content is retried
      // until the table or the data is fixed. The schema in Events.ts keeps
      // such rows out of the stream.
      return retrying(
        Effect.timed(clickhouse.insert(table, rows, { dedupToken: token })),
        (error: ClickHouseError, failures) =>
          Metric.update(
            Metric.withAttributes(WriterMetrics.insertFailures, { table, reason: error.reason }),
            1,
          ).pipe(
            Effect.andThen(
              logFailure("Inserting analytics events failed; retrying", {
                table,
                rows: rows.length,
              })(error.message, failures),
            ),
          ),
      ).pipe(
        Effect.tap(([duration]) =>
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const oldest = batch.reduce(
              (min, entry) => Math.min(min, entry.time),
              Number.POSITIVE_INFINITY,
            )
            const attributes = { table }
            yield* Metric.update(
              Metric.withAttributes(WriterMetrics.batchRows, attributes),
              rows.length,
            )
            yield* Metric.update(
              Metric.withAttributes(WriterMetrics.insertDuration, attributes),
              Duration.toSeconds(duration),
            )
            yield* Metric.update(
              Metric.withAttributes(WriterMetrics.lag, attributes),
              Math.max(0, now - oldest) / 1000,
            )
          }),
        ),
        Effect.andThen(
          Effect.suspend(() => {
            const done = written(batch)
            return done.length === 0 ? Effect.void : ack(done)
          }),
        ),
        Effect.andThen(setBuffered(-batch.length)),
        Effect.withSpan("BatchWriter.insert", {
          attributes: { "db.collection.name": table, rows: rows.length },
        }),
      )
    }

    /** Inserts every batch that is full or whose oldest entry waited `maxDelay`. */
    const flushDue = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const [table, entries] of buffers) {
        while (
          entries.length >= maxRows ||
          (entries.length > 0 && now - entries[0]!.readAt >= maxDelayMillis)
        ) {
          const batch = entries.slice(0, maxRows)
          yield* insert(table, batch)
          entries.splice(0, batch.length)
        }
      }
    })

    /** Time until the next batch falls due; `maxDelay` when nothing is buffered. */
    const nextDeadline = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      let wait = maxDelayMillis
      for (const entries of buffers.values()) {
        if (entries.length > 0) wait = Math.min(wait, entries[0]!.readAt + maxDelayMillis - now)
      }
      return Duration.millis(Math.max(0, wait))
    })

    const reportInvalid = (entry: StreamEntry, reason: string) =>
      deadLetter(entry, reason).pipe(
        Effect.catchCause((cause) =>
          Effect.logError("Dead-letter callback failed", cause).pipe(
            Effect.annotateLogs({ entryId: entry.id }),
          ),
        ),
      )

    const accept = (entries: ReadonlyArray<StreamEntry>) =>
      Effect.gen(function* () {
        const readAt = yield* Clock.currentTimeMillis
        const empty: Array<string> = []
        let added = 0
        for (const entry of entries) {
          const { events, invalid } = decodeEntry(entry.payload)
          const packed = entry.payload.startsWith("[")
          for (const problem of invalid) {
            const reason = packed ? `event ${problem.index}: ${problem.message}` : problem.message
            yield* reportInvalid(entry, reason)
          }
          if (events.length === 0) {
            empty.push(entry.id)
            continue
          }
          // A redelivered entry may still be buffered from an earlier read.
          if (unwritten.has(entry.id)) continue
          unwritten.set(entry.id, events.length)
          events.forEach((event, index) => {
            const { table, row } = toRow(event)
            let tableBuffer = buffers.get(table)
            if (tableBuffer === undefined) {
              tableBuffer = []
              buffers.set(table, tableBuffer)
            }
            const key = `${entry.id}:${index}`
            tableBuffer.push({ entryId: entry.id, key, row, time: event.time, readAt })
          })
          added += events.length
        }
        yield* setBuffered(added)
        if (empty.length > 0) yield* ack(empty)
      })

    const readOnce = Effect.gen(function* () {
      const block = yield* nextDeadline
      const entries = yield* retrying(
        source.read(entriesPerRead(maxRows), block),
        logFailure("Reading the analytics stream failed", {}),
      )
      yield* accept(entries)
    })

    yield* Metric.update(WriterMetrics.bufferedEvents, 0)
    return yield* Effect.forever(Effect.andThen(flushDue, readOnce))
  }).pipe(Effect.annotateLogs({ component: "analytics.BatchWriter" }))
