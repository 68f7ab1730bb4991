import * as path from "node:path"
import { Clock, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { StoreError } from "./StoreError.ts"
import type { DeliveredEntry } from "./StreamQueue.ts"
import { StreamQueue } from "./StreamQueue.ts"
import { Journal, type JournalRecord } from "./StreamQueueJournal.ts"
import {
  applyRecord,
  type GroupState,
  parseId,
  type StreamState,
  type Streams,
  snapshotRecords,
  streamOf,
} from "./StreamQueueState.ts"

export interface StreamQueueMemoryOptions {
  /** Maximum entries per stream; `append` then fails as `queue_full`. Default 10,000. */
  readonly maxEntries?: number | undefined
  /** Maximum UTF-8 payload bytes per stream; `append` then fails as `queue_full`. Default 64 MiB. */
  readonly maxBytes?: number | undefined
  /**
   * Directory for the journal `stream-queue.journal`, which makes queued
   * entries survive a restart. Without it, entries live only in memory.
   */
  readonly dataDir?: string | undefined
  /** How often the journal is flushed to disk. Default 1 second. */
  readonly fsyncInterval?: Duration.Input | undefined
}

export const JOURNAL_FILE = "stream-queue.journal"

// Compaction rewrites the journal once it is past this size and more than
// twice the live payload bytes.
const COMPACT_MIN_BYTES = 64 * 1024 * 1024

const fail = (operation: string, reason: StoreError["reason"], message: string, cause?: unknown) =>
  new StoreError({ reason, operation, message: `${operation} failed: ${message}`, cause })

const noGroup = (operation: string, stream: string, group: string) =>
  fail(
    operation,
    "protocol",
    `no consumer group "${group}" on stream "${stream}"; call ensureGroup first`,
  )

/**
 * Builds `StreamQueue` in this process, with the semantics of the Redis
 * implementation: ids, consumer groups, pending entries with delivery counts
 * and idle time, claims and acks. Each stream is bounded by `maxEntries` and
 * `maxBytes`, so a backlog that outgrows memory is rejected (the webhook
 * route returns 503 and the provider retries) instead of growing the heap.
 */
export const make = (
  options: StreamQueueMemoryOptions = {},
): Effect.Effect<StreamQueue["Service"], StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const maxEntries = options.maxEntries ?? 10_000
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024
    const streams: Streams = new Map()
    // NOTE: without `dataDir` there is no journal, and entries queued in
    // embedded mode are lost when the process exits or crashes.
    const journal =
      options.dataDir === undefined
        ? undefined
        : yield* openJournal(
            streams,
            path.join(options.dataDir, JOURNAL_FILE),
            options.fsyncInterval,
          )

    // Writes the records to the journal first and applies them only when the
    // write succeeded, so memory never contains what the journal did not record.
    const commit = (operation: string, records: ReadonlyArray<JournalRecord>, now: number) => {
      try {
        journal?.write(records)
      } catch (cause) {
        return fail(
          operation,
          "unavailable",
          `cannot write the journal ${journal?.file}: ${cause}`,
          cause,
        )
      }
      for (const record of records) applyRecord(streams, record, now)
      return undefined
    }

    const step = <A>(
      operation: string,
      f: (now: number) => A | StoreError,
    ): Effect.Effect<A, StoreError> =>
      Effect.clockWith((clock) =>
        Effect.suspend(() => {
          const result = f(clock.currentTimeMillisUnsafe())
          return result instanceof StoreError ? Effect.fail(result) : Effect.succeed(result)
        }),
      ).pipe(Effect.withSpan(operation))

    const appendAll = (operation: string, name: string, payloads: ReadonlyArray<string>) =>
      step(operation, (now) => {
        const stream = streamOf(streams, name)
        const bytes = payloads.reduce((sum, payload) => sum + Buffer.byteLength(payload), 0)
        if (stream.live.size + payloads.length > maxEntries || stream.bytes + bytes > maxBytes) {
          return fail(
            operation,
            "queue_full",
            `stream "${name}" contains ${stream.live.size} entries (${stream.bytes} bytes), ` +
              `the in-process bound is ${maxEntries} entries or ${maxBytes} bytes`,
          )
        }
        let [ms, seq] = stream.nextId(now)
        const records: Array<JournalRecord> = []
        for (const payload of payloads) {
          records.push({ o: "a", s: name, i: `${ms}-${seq}`, p: payload })
          seq++
        }
        const failure = commit(operation, records, now)
        if (failure !== undefined) return failure
        for (const wake of stream.waiters) wake()
        stream.waiters.clear()
        return records.map((record) => (record.o === "a" ? record.i : ""))
      })

    const groupOf = (operation: string, name: string, group: string): GroupState | StoreError =>
      streams.get(name)?.groups.get(group) ?? noGroup(operation, name, group)

    const readNow = (name: string, group: string, consumer: string, count: number) =>
      step("StreamQueue.read", (now): ReadonlyArray<DeliveredEntry> | StoreError => {
        const state = groupOf("StreamQueue.read", name, group)
        if (state instanceof StoreError) return state
        const stream = streamOf(streams, name)
        const entries = stream.after(state.lastMs, state.lastSeq, count)
        if (entries.length === 0) return []
        const ids = entries.map((entry) => entry.id)
        const failure = commit(
          "StreamQueue.read",
          [{ o: "r", s: name, g: group, c: consumer, i: ids }],
          now,
        )
        if (failure !== undefined) return failure
        return entries.map((entry) => ({ id: entry.id, payload: entry.payload, deliveries: 1 }))
      })

    const waitForAppend = (stream: StreamState, millis: number) =>
      Effect.raceFirst(
        Effect.callback<void>((resume) => {
          const wake = () => resume(Effect.void)
          stream.waiters.add(wake)
          return Effect.sync(() => stream.waiters.delete(wake))
        }),
        Effect.sleep(Duration.millis(millis)),
      )

    return StreamQueue.of({
      append: (name, payload) =>
        Effect.map(appendAll("StreamQueue.append", name, [payload]), (ids) => ids[0]!),

      appendMany: (name, payloads) =>
        payloads.length === 0
          ? Effect.succeed([])
          : appendAll("StreamQueue.appendMany", name, payloads),

      ensureGroup: (name, group) =>
        step("StreamQueue.ensureGroup", (now) => {
          if (streams.get(name)?.groups.has(group)) return undefined
          return commit("StreamQueue.ensureGroup", [{ o: "g", s: name, g: group }], now)
        }),

      read: (name, group, consumer, readOptions) =>
        Effect.gen(function* () {
          const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(readOptions.block)
          while (true) {
            const entries = yield* readNow(name, group, consumer, readOptions.count)
            const remaining = deadline - (yield* Clock.currentTimeMillis)
            if (entries.length > 0 || remaining <= 0) return entries
            yield* waitForAppend(streamOf(streams, name), remaining)
          }
        }),

      ack: (name, group, ids) =>
        step("StreamQueue.ack", (now) => {
          if (ids.length === 0) return 0
          const pending = streams.get(name)?.groups.get(group)?.pending
          const acked = pending === undefined ? 0 : ids.filter((id) => pending.has(id)).length
          const failure = commit(
            "StreamQueue.ack",
            [
              { o: "k", s: name, g: group, i: ids },
              { o: "d", s: name, i: ids },
            ],
            now,
          )
          return failure ?? acked
        }),

      claimStale: (name, group, consumer, claimOptions) =>
        step("StreamQueue.claimStale", (now): ReadonlyArray<DeliveredEntry> | StoreError => {
          const state = groupOf("StreamQueue.claimStale", name, group)
          if (state instanceof StoreError) return state
          const stream = streamOf(streams, name)
          const minIdle = Duration.toMillis(claimOptions.minIdle)
          const entries = stream.claimable(state, minIdle, claimOptions.count, now)
          if (entries.length === 0) return []
          const ids = entries.map((entry) => entry.id)
          const record: JournalRecord = { o: "r", s: name, g: group, c: consumer, i: ids }
          const failure = commit("StreamQueue.claimStale", [record], now)
          if (failure !== undefined) return failure
          return entries.map((entry) => ({
            id: entry.id,
            payload: entry.payload,
            deliveries: state.pending.get(entry.id)?.deliveries ?? 1,
          }))
        }),

      length: (name) => Effect.sync(() => streams.get(name)?.live.size ?? 0),

      pending: (name, group) =>
        step("StreamQueue.pending", () => {
          const state = groupOf("StreamQueue.pending", name, group)
          return state instanceof StoreError ? state : state.pending.size
        }),

      range: (name, rangeOptions) =>
        step("StreamQueue.range", () => {
          const start = rangeOptions.start ?? "-"
          const exclusive = start.startsWith("(")
          const position =
            start === "-" ? ([-1, -1] as const) : parseId(exclusive ? start.slice(1) : start)
          if (position === undefined) {
            return fail("StreamQueue.range", "protocol", `invalid stream id "${start}"`)
          }
          const [ms, seq] = position
          const entries = streams
            .get(name)
            ?.after(ms, exclusive || start === "-" ? seq : seq - 1, rangeOptions.count)
          return (entries ?? []).map((entry) => ({ id: entry.id, payload: entry.payload }))
        }),

      remove: (name, ids) =>
        step("StreamQueue.remove", (now) => {
          const stream = streams.get(name)
          if (stream === undefined || ids.length === 0) return 0
          const removed = ids.filter((id) => stream.live.has(id)).length
          return commit("StreamQueue.remove", [{ o: "d", s: name, i: ids }], now) ?? removed
        }),
    })
  })

/**
 * Replays the journal into `streams`, compacts it, and keeps it flushed once
 * per `fsyncInterval` for the life of the scope.
 */
const openJournal = (streams: Streams, file: string, fsyncInterval: Duration.Input | undefined) =>
  Effect.gen(function* () {
    const opened = yield* Effect.try({
      try: () => Journal.open(file),
      catch: (cause) =>
        fail("StreamQueue.open", "unavailable", `cannot open the journal ${file}: ${cause}`, cause),
    })
    for (const record of opened.records) applyRecord(streams, record, 0)
    if (opened.skipped > 0) {
      yield* Effect.logWarning(`Skipped ${opened.skipped} unreadable lines in the journal ${file}`)
    }
    const journal = opened.journal
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => journal.close()).pipe(Effect.ignore({ log: "Warn" })),
    )

    const compact = Effect.try({
      try: () => journal.rewrite(snapshotRecords(streams)),
      catch: (cause) =>
        fail(
          "StreamQueue.compact",
          "unavailable",
          `cannot rewrite the journal ${file}: ${cause}`,
          cause,
        ),
    })
    yield* compact

    const liveBytes = () => {
      let total = 0
      for (const stream of streams.values()) total += stream.bytes
      return total
    }
    const maintain = Effect.gen(function* () {
      yield* Effect.tryPromise({
        try: () => journal.sync(),
        catch: (cause) =>
          fail(
            "StreamQueue.sync",
            "unavailable",
            `cannot flush the journal ${file}: ${cause}`,
            cause,
          ),
      })
      if (journal.size > COMPACT_MIN_BYTES && journal.size > 2 * liveBytes()) yield* compact
    }).pipe(Effect.catch((error) => Effect.logError(error.message)))
    yield* Effect.forkScoped(Effect.repeat(maintain, Schedule.spaced(fsyncInterval ?? "1 second")))
    return journal
  })

export const layer = (
  options: StreamQueueMemoryOptions = {},
): Layer.Layer<StreamQueue, StoreError> => Layer.effect(StreamQueue, make(options))
