/**
 * An in-memory stream with one consumer group, implementing the writer's
 * `EventSource`: entries read and not acknowledged stay pending, and
 * `restart()` hands them out again first, as a new consumer claiming a
 * stopped consumer's pending entries would.
 */
import { type Duration, Effect } from "effect"
import type { EventSource, StreamEntry } from "../../../src/analytics/BatchWriter.ts"

/** How long an empty `read` waits before returning nothing. */
const EMPTY_READ_WAIT: Duration.Input = "5 millis"

export class MemoryStream implements EventSource<never> {
  private readonly entries: Array<{ id: string; payload: string }> = []
  private cursor = 0
  private readonly deliveries = new Map<string, number>()
  private readonly pending = new Map<string, { id: string; payload: string }>()
  private redeliver: Array<{ id: string; payload: string }> = []
  readonly acked = new Set<string>()
  /** Completed `read` calls that returned at least one entry. */
  nonEmptyReads = 0
  /** Runs before each `ack`; a test sets it to stop the writer there. */
  beforeAck: (ids: ReadonlyArray<string>) => Effect.Effect<void> = () => Effect.void

  append(payload: string): string {
    const id = `${String(this.entries.length + 1).padStart(12, "0")}-0`
    this.entries.push({ id, payload })
    return id
  }

  get size(): number {
    return this.entries.length
  }

  get pendingCount(): number {
    return this.pending.size
  }

  /** Hands every pending entry out again, oldest first, before any new entry. */
  restart(): void {
    this.redeliver = [...this.pending.values()].sort((a, b) => a.id.localeCompare(b.id))
  }

  readonly read = (count: number, _block: Duration.Duration) =>
    Effect.suspend(() => {
      const batch: Array<{ id: string; payload: string }> = []
      while (batch.length < count && this.redeliver.length > 0) batch.push(this.redeliver.shift()!)
      while (batch.length < count && this.cursor < this.entries.length) {
        batch.push(this.entries[this.cursor]!)
        this.cursor += 1
      }
      if (batch.length === 0) return Effect.as(Effect.sleep(EMPTY_READ_WAIT), [])

      this.nonEmptyReads += 1
      const read: Array<StreamEntry> = batch.map((entry) => {
        const deliveries = (this.deliveries.get(entry.id) ?? 0) + 1
        this.deliveries.set(entry.id, deliveries)
        this.pending.set(entry.id, entry)
        return { ...entry, deliveries }
      })
      return Effect.succeed(read)
    })

  readonly ack = (ids: ReadonlyArray<string>) =>
    Effect.suspend(() => this.beforeAck(ids)).pipe(
      Effect.andThen(
        Effect.sync(() => {
          for (const id of ids) {
            this.pending.delete(id)
            this.acked.add(id)
          }
        }),
      ),
    )

  /** Tells whether every appended entry is acknowledged. */
  allAcked(): boolean {
    return this.acked.size === this.entries.length
  }
}

/** Polls `condition` every 10 ms until it holds; the test timeout bounds the wait. */
export const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (!condition()) yield* Effect.sleep("10 millis")
  })
