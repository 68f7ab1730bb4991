/**
 * The dead-letter stream: events whose delivery failed for good, kept with
 * the last error until an operator replays them to the main stream.
 */
import { Context, Effect, Layer } from "effect"
import type { StoreError } from "../storage/StoreError.ts"
import { StreamQueue } from "../storage/StreamQueue.ts"
import {
  deadLetterStream,
  decodeEvent,
  encodeEvent,
  eventsStream,
  type QueuedWebhook,
} from "./WebhookEvent.ts"

export interface DeadLetter {
  readonly eventId: string
  readonly provider: string
  /** Undefined when the stream payload could not be decoded; `payload` contains it then. */
  readonly event: QueuedWebhook | undefined
  readonly payload?: string | undefined
  readonly attempts: number
  readonly lastError: string
  /** Short snake_case cause, such as `http_500` or `timeout`. */
  readonly lastReason: string
  readonly lastStatus: number | undefined
  /** Milliseconds since the Unix epoch. */
  readonly deadLetteredAt: number
}

export interface DeadLetterEntry extends DeadLetter {
  /** Stream entry id; the handle for replay. */
  readonly id: string
}

export const encodeDeadLetter = (letter: DeadLetter): string => JSON.stringify(letter)

const decodeDeadLetter = (id: string, payload: string): DeadLetterEntry => {
  try {
    const letter = JSON.parse(payload) as DeadLetter
    const event = letter.event === undefined ? undefined : decodeEvent(JSON.stringify(letter.event))
    return { ...letter, id, event }
  } catch {
    return {
      id,
      eventId: "",
      provider: "",
      event: undefined,
      payload,
      attempts: 0,
      lastError: "dead letter could not be decoded",
      lastReason: "undecodable",
      lastStatus: undefined,
      deadLetteredAt: 0,
    }
  }
}

/** Returns the event as the main stream takes it, keeping its id so the destination can deduplicate. */
const replayPayload = (entry: DeadLetterEntry): string | undefined =>
  entry.event === undefined ? undefined : encodeEvent({ ...entry.event, eventId: entry.eventId })

const streamIdPattern = /^[0-9]{1,20}-[0-9]{1,20}$/

/** Milliseconds part of a stream id. */
const idMillis = (id: string): number => Number(id.slice(0, id.indexOf("-")))

const scanPageSize = 200
/** Entries one listing call reads at most while filtering by provider. */
const maxScannedPerList = 5_000

export interface DeadLetterPage {
  readonly data: ReadonlyArray<DeadLetterEntry>
  /** Pass as `cursor` for the next page; undefined at the end of the stream. */
  readonly nextCursor: string | undefined
}

export interface DeadLettersShape {
  readonly list: (options: {
    readonly provider?: string | undefined
    readonly limit: number
    readonly cursor?: string | undefined
  }) => Effect.Effect<DeadLetterPage, StoreError>
  /** Moves one dead letter back to the main stream; `false` when no entry has the id. */
  readonly replay: (id: string) => Effect.Effect<boolean, StoreError>
  /**
   * Moves every dead letter (of one provider, if given) back to the main
   * stream. Letters added while it runs are left for the next call, so an
   * event that fails again is not replayed in a loop.
   */
  readonly replayAll: (options: {
    readonly provider?: string | undefined
  }) => Effect.Effect<{ readonly replayed: number; readonly skipped: number }, StoreError>
}

export class DeadLetters extends Context.Service<DeadLetters, DeadLettersShape>()(
  "app/webhooks/DeadLetters",
) {
  static readonly layer = Layer.effect(
    DeadLetters,
    Effect.gen(function* () {
      const queue = yield* StreamQueue

      const page = (after: string | undefined, count: number) =>
        Effect.map(
          queue.range(deadLetterStream, {
            start: after === undefined ? "-" : `(${after}`,
            count,
          }),
          (entries) => entries.map((entry) => decodeDeadLetter(entry.id, entry.payload)),
        )

      const list: DeadLettersShape["list"] = ({ provider, limit, cursor }) =>
        Effect.gen(function* () {
          const found: Array<DeadLetterEntry> = []
          let after = cursor
          let scanned = 0
          while (found.length < limit && scanned < maxScannedPerList) {
            const count = provider === undefined ? limit - found.length : scanPageSize
            const entries = yield* page(after, count)
            for (const entry of entries) {
              after = entry.id
              scanned += 1
              if (provider === undefined || entry.provider === provider) found.push(entry)
              if (found.length === limit) return { data: found, nextCursor: after }
            }
            if (entries.length < count) return { data: found, nextCursor: undefined }
          }
          return { data: found, nextCursor: after }
        })

      const replay: DeadLettersShape["replay"] = (id) =>
        Effect.gen(function* () {
          if (!streamIdPattern.test(id)) return false
          const [found] = yield* queue.range(deadLetterStream, { start: id, count: 1 })
          const entry = found === undefined ? undefined : decodeDeadLetter(found.id, found.payload)
          if (entry === undefined || entry.id !== id) return false
          const payload = replayPayload(entry)
          if (payload === undefined) return false
          // Append before removing: a crash in between replays the event twice
          // with one id, which the worker and the destination deduplicate.
          yield* queue.append(eventsStream, payload)
          yield* queue.remove(deadLetterStream, [id])
          return true
        })

      const replayAll: DeadLettersShape["replayAll"] = ({ provider }) =>
        Effect.gen(function* () {
          const startedAt = Date.now()
          let after: string | undefined
          let replayed = 0
          let skipped = 0
          for (;;) {
            const entries = yield* page(after, scanPageSize)
            const ids: Array<string> = []
            const payloads: Array<string> = []
            let reachedNewer = false
            for (const entry of entries) {
              if (idMillis(entry.id) > startedAt) {
                reachedNewer = true
                break
              }
              after = entry.id
              if (provider !== undefined && entry.provider !== provider) continue
              const payload = replayPayload(entry)
              if (payload === undefined) {
                skipped += 1
                continue
              }
              ids.push(entry.id)
              payloads.push(payload)
            }
            yield* queue.appendMany(eventsStream, payloads)
            yield* queue.remove(deadLetterStream, ids)
            replayed += ids.length
            if (reachedNewer || entries.length < scanPageSize) return { replayed, skipped }
          }
        })

      return DeadLetters.of({ list, replay, replayAll })
    }),
  )
}
