/**
 * In-memory stream state for `StreamQueueMemory`, following Redis stream
 * semantics: ids `<milliseconds>-<sequence>` that only grow, consumer groups
 * with a last-delivered id, and a pending entries list per group. Plain
 * synchronous code; the service runs each operation in one step.
 */
import type { JournalRecord } from "./StreamQueueJournal.ts"

export interface StoredEntry {
  readonly id: string
  readonly ms: number
  readonly seq: number
  readonly payload: string
  /** UTF-8 size of the payload, counted against the stream's byte bound. */
  readonly bytes: number
  deleted: boolean
}

export interface PendingEntry {
  consumer: string
  deliveries: number
  /** Epoch milliseconds of the last delivery; 0 after a restart. */
  deliveredAt: number
}

export interface GroupState {
  lastMs: number
  lastSeq: number
  /** Insertion order is id order: entries enter on first delivery, in id order. */
  readonly pending: Map<string, PendingEntry>
}

/** Position in a stream: `[milliseconds, sequence]`. */
export type StreamPosition = readonly [ms: number, seq: number]

/** Parses `"<ms>-<seq>"` or `"<ms>"` (sequence 0); `undefined` when malformed. */
export const parseId = (id: string): StreamPosition | undefined => {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id)
  if (match === null) return undefined
  return [Number(match[1]), match[2] === undefined ? 0 : Number(match[2])]
}

const isAfterPosition = (position: StreamPosition, ms: number, seq: number): boolean =>
  position[0] > ms || (position[0] === ms && position[1] > seq)

const isAfter = (entry: StoredEntry, ms: number, seq: number): boolean =>
  entry.ms > ms || (entry.ms === ms && entry.seq > seq)

export class StreamState {
  /** Sorted by id; deleted entries stay as tombstones until `compact`. */
  private entries: Array<StoredEntry> = []
  private tombstones = 0
  readonly live = new Map<string, StoredEntry>()
  readonly groups = new Map<string, GroupState>()
  /** Readers blocked on this stream, woken by the next append. */
  readonly waiters = new Set<() => void>()
  bytes = 0
  lastMs = 0
  lastSeq = 0

  /** Returns the next id for `now`, like Redis: same millisecond raises the sequence. */
  nextId(now: number): StreamPosition {
    if (now > this.lastMs) return [now, 0]
    return [this.lastMs, this.lastSeq + 1]
  }

  /** Adds an entry whose id is above every id seen in this stream. */
  add(id: string, payload: string, bytes: number): void {
    const position = parseId(id)
    if (position === undefined) return
    const [ms, seq] = position
    if (!(ms > this.lastMs || (ms === this.lastMs && seq > this.lastSeq))) return
    const entry: StoredEntry = { id, ms, seq, payload, bytes, deleted: false }
    this.entries.push(entry)
    this.live.set(id, entry)
    this.bytes += bytes
    this.lastMs = ms
    this.lastSeq = seq
  }

  /** Deletes entries and returns how many were live. Pending lists keep their ids. */
  delete(ids: Iterable<string>): number {
    let removed = 0
    for (const id of ids) {
      const entry = this.live.get(id)
      if (entry === undefined) continue
      entry.deleted = true
      this.live.delete(id)
      this.bytes -= entry.bytes
      this.tombstones++
      removed++
    }
    if (this.tombstones > 1024 && this.tombstones > this.live.size) this.compact()
    return removed
  }

  private compact(): void {
    this.entries = this.entries.filter((entry) => !entry.deleted)
    this.tombstones = 0
  }

  /** Index of the first entry (live or not) with an id above `[ms, seq]`. */
  private firstAfter(ms: number, seq: number): number {
    let low = 0
    let high = this.entries.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (isAfter(this.entries[middle]!, ms, seq)) high = middle
      else low = middle + 1
    }
    return low
  }

  /** Live entries with ids above `[ms, seq]`, at most `count`, in id order. */
  after(ms: number, seq: number, count: number): Array<StoredEntry> {
    const result: Array<StoredEntry> = []
    for (let i = this.firstAfter(ms, seq); i < this.entries.length && result.length < count; i++) {
      const entry = this.entries[i]!
      if (!entry.deleted) result.push(entry)
    }
    return result
  }

  /**
   * Records a delivery of `ids` to `consumer`: a first delivery enters the
   * pending list with count 1, a redelivery (claim) raises the count.
   */
  markDelivered(
    group: GroupState,
    consumer: string,
    ids: ReadonlyArray<string>,
    now: number,
  ): void {
    for (const id of ids) {
      const pending = group.pending.get(id)
      if (pending === undefined) {
        group.pending.set(id, { consumer, deliveries: 1, deliveredAt: now })
      } else {
        pending.consumer = consumer
        pending.deliveries++
        pending.deliveredAt = now
      }
      const position = parseId(id)
      if (position !== undefined && isAfterPosition(position, group.lastMs, group.lastSeq)) {
        group.lastMs = position[0]
        group.lastSeq = position[1]
      }
    }
  }

  /**
   * Returns pending entries of `group` idle for at least `minIdleMillis`, at
   * most `count`, and drops pending ids whose entry was deleted.
   */
  claimable(
    group: GroupState,
    minIdleMillis: number,
    count: number,
    now: number,
  ): Array<StoredEntry> {
    const result: Array<StoredEntry> = []
    for (const [id, pending] of group.pending) {
      if (result.length >= count) break
      if (now - pending.deliveredAt < minIdleMillis) continue
      const entry = this.live.get(id)
      if (entry === undefined) group.pending.delete(id)
      else result.push(entry)
    }
    return result
  }
}

/** All streams of one in-process queue, by name. */
export type Streams = Map<string, StreamState>

export const streamOf = (streams: Streams, name: string): StreamState => {
  let stream = streams.get(name)
  if (stream === undefined) {
    stream = new StreamState()
    streams.set(name, stream)
  }
  return stream
}

/**
 * Applies one journal record. The service applies each record it writes, and
 * start-up applies the journal's records, so both paths change state the same
 * way. `now` stamps deliveries: the current time while running, 0 on replay so
 * that entries pending before a restart can be claimed at once.
 */
export const applyRecord = (streams: Streams, record: JournalRecord, now: number): void => {
  const stream = streamOf(streams, record.s)
  switch (record.o) {
    case "a":
      stream.add(record.i, record.p, Buffer.byteLength(record.p))
      return
    case "d":
      stream.delete(record.i)
      return
    case "s": {
      const position = parseId(record.l)
      if (position !== undefined && isAfterPosition(position, stream.lastMs, stream.lastSeq)) {
        stream.lastMs = position[0]
        stream.lastSeq = position[1]
      }
      return
    }
    case "g": {
      if (stream.groups.has(record.g)) return
      const [lastMs, lastSeq] = parseId(record.l ?? "0-0") ?? [0, 0]
      stream.groups.set(record.g, { lastMs, lastSeq, pending: new Map() })
      return
    }
    case "r": {
      const group = stream.groups.get(record.g)
      if (group !== undefined) stream.markDelivered(group, record.c, record.i, now)
      return
    }
    case "k": {
      const group = stream.groups.get(record.g)
      for (const id of record.i) group?.pending.delete(id)
      return
    }
    case "p": {
      const group = stream.groups.get(record.g)
      if (group === undefined) return
      stream.markDelivered(group, record.c, [record.i], now)
      const pending = group.pending.get(record.i)
      if (pending !== undefined) pending.deliveries = record.n
      return
    }
  }
}

/**
 * Returns records that rebuild `streams` when applied in order: entries
 * first, because `add` accepts only ids above the stream's last id, then the
 * last id, the groups and their pending entries.
 */
export function* snapshotRecords(streams: Streams): Generator<JournalRecord> {
  for (const [name, stream] of streams) {
    for (const entry of stream.live.values())
      yield { o: "a", s: name, i: entry.id, p: entry.payload }
    yield { o: "s", s: name, l: `${stream.lastMs}-${stream.lastSeq}` }
    for (const [groupName, group] of stream.groups) {
      yield { o: "g", s: name, g: groupName, l: `${group.lastMs}-${group.lastSeq}` }
      for (const [id, pending] of group.pending) {
        yield { o: "p", s: name, g: groupName, c: pending.consumer, i: id, n: pending.deliveries }
      }
    }
  }
}
