import { Data } from "effect"

/**
 * Reason a key-value, lock or queue operation failed.
 *
 * - `unavailable`: the store cannot be reached (Redis down, disk write failed).
 * - `timeout`: the store did not reply in time.
 * - `queue_full`: the queue reached its bound and rejects new entries.
 * - `protocol`: the store rejected the command (wrong type, missing group).
 */
export type StoreErrorReason = "unavailable" | "timeout" | "queue_full" | "protocol"

/**
 * Failure of the cache, lock or stream-queue store. Every reason maps to the
 * public code `store_unavailable` and HTTP 503, so a provider or client
 * retries later instead of losing the request.
 */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly reason: StoreErrorReason
  /** Store operation that failed, such as `StreamQueue.append`. */
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {
  get code(): "store_unavailable" {
    return "store_unavailable"
  }
}
