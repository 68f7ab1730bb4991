import { Context, type Duration, type Effect } from "effect"
import type { StoreError } from "./StoreError.ts"

/** One stream entry: its id (`<milliseconds>-<sequence>`) and payload. */
export interface StreamEntry {
  readonly id: string
  readonly payload: string
}

/** An entry handed to a consumer, with how many times it has been delivered. */
export interface DeliveredEntry extends StreamEntry {
  /** 1 on first delivery; each claim by another consumer adds 1. */
  readonly deliveries: number
}

export interface ReadOptions {
  /** Maximum entries returned. */
  readonly count: number
  /** How long to wait for a new entry when none is ready. Zero returns at once. */
  readonly block: Duration.Input
}

export interface ClaimOptions {
  /** Entries delivered at least this long ago without an ack are claimed. */
  readonly minIdle: Duration.Input
  /** Maximum entries claimed. */
  readonly count: number
}

export interface RangeOptions {
  /**
   * First id to return: `"-"` (the default) for the oldest entry, an id to
   * start at it, or `"(" + id` to start after it when paging.
   */
  readonly start?: string | undefined
  readonly count: number
}

/**
 * A durable queue with consumer groups, modelled on Redis streams. Entries
 * keep their append order, and each group hands every entry to one consumer.
 * An entry stays pending until acknowledged. Entries that a crashed consumer
 * left pending are claimed by another consumer after `minIdle`.
 *
 * `ack` acknowledges and deletes the entries, so a stream contains only
 * entries not yet processed and its length is the backlog. Each stream is
 * meant for one consumer group, because a second group would lose the entries
 * that the first one acknowledged.
 *
 * Implemented on Redis streams (`StreamQueueRedis`) and in process
 * (`StreamQueueMemory`, bounded, with an optional journal file).
 */
export class StreamQueue extends Context.Service<
  StreamQueue,
  {
    /** Appends one entry and returns its id. */
    readonly append: (stream: string, payload: string) => Effect.Effect<string, StoreError>
    /** Appends entries in one step, all or none, and returns their ids in order. */
    readonly appendMany: (
      stream: string,
      payloads: ReadonlyArray<string>,
    ) => Effect.Effect<ReadonlyArray<string>, StoreError>
    /**
     * Creates the group (and the stream) if missing. A new group starts at the
     * beginning of the stream, so entries appended before it existed are
     * delivered too.
     */
    readonly ensureGroup: (stream: string, group: string) => Effect.Effect<void, StoreError>
    /** Delivers entries never delivered to the group before, oldest first. */
    readonly read: (
      stream: string,
      group: string,
      consumer: string,
      options: ReadOptions,
    ) => Effect.Effect<ReadonlyArray<DeliveredEntry>, StoreError>
    /** Acknowledges and deletes entries; returns how many were pending. */
    readonly ack: (
      stream: string,
      group: string,
      ids: ReadonlyArray<string>,
    ) => Effect.Effect<number, StoreError>
    /**
     * Moves entries pending longer than `minIdle` to `consumer` and delivers
     * them again, with their delivery count raised by one. Pending entries
     * whose stream entry was deleted are dropped from the pending list.
     */
    readonly claimStale: (
      stream: string,
      group: string,
      consumer: string,
      options: ClaimOptions,
    ) => Effect.Effect<ReadonlyArray<DeliveredEntry>, StoreError>
    /** Entries in the stream (the backlog, since `ack` deletes). */
    readonly length: (stream: string) => Effect.Effect<number, StoreError>
    /** Entries delivered to the group and not yet acknowledged. */
    readonly pending: (stream: string, group: string) => Effect.Effect<number, StoreError>
    /** Lists entries in id order, for dead-letter listing and replay. */
    readonly range: (
      stream: string,
      options: RangeOptions,
    ) => Effect.Effect<ReadonlyArray<StreamEntry>, StoreError>
    /** Deletes entries by id; returns how many existed. */
    readonly remove: (
      stream: string,
      ids: ReadonlyArray<string>,
    ) => Effect.Effect<number, StoreError>
  }
>()("app/storage/StreamQueue") {}
