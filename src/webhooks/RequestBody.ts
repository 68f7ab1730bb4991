/**
 * Reads a webhook body as raw bytes under a size limit. The limit is checked
 * against `Content-Length` before anything is read, and counted while reading
 * a body without one (chunked transfer coding), so an oversized body is
 * rejected before any of it is hashed or kept.
 */
import { Data, Effect } from "effect"

export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{
  readonly limitBytes: number
}> {
  override get message(): string {
    return `The request body is larger than the limit of ${this.limitBytes} bytes.`
  }
}

/** The body could not be read: a malformed length, or the client went away mid-body. */
export class BodyUnreadable extends Data.TaggedError("BodyUnreadable")<{
  readonly reason: "invalid_content_length" | "read_failed" | "length_mismatch"
  readonly cause?: unknown
}> {
  override get message(): string {
    if (this.reason === "invalid_content_length") {
      return "The Content-Length header is not one non-negative integer."
    }
    if (this.reason === "length_mismatch") {
      return "The request body is shorter than its Content-Length."
    }
    return "The request body could not be read."
  }
}

const emptyBody = new Uint8Array(0)

const contentLengthPattern = /^[0-9]{1,15}$/

/** Reads a body of unknown length, cancelling the stream once it passes the limit. */
const readCounted = async (
  stream: ReadableStream<Uint8Array>,
  limitBytes: number,
): Promise<Uint8Array | BodyTooLarge> => {
  const reader = stream.getReader()
  const chunks: Array<Uint8Array> = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined)
      return new BodyTooLarge({ limitBytes })
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

const readKnownLength = async (
  request: Request,
  length: number,
): Promise<Uint8Array | BodyUnreadable> => {
  const body = await request.bytes()
  // Bun stops at Content-Length, so a longer body cannot arrive here; a
  // shorter one means the client closed the connection early.
  return body.byteLength === length ? body : new BodyUnreadable({ reason: "length_mismatch" })
}

/**
 * Returns the body bytes, or fails with `BodyTooLarge` (413) or
 * `BodyUnreadable` (400).
 */
export const readLimitedBody = (
  request: Request,
  limitBytes: number,
): Effect.Effect<Uint8Array, BodyTooLarge | BodyUnreadable> => {
  const lengthHeader = request.headers.get("content-length")
  if (lengthHeader !== null) {
    const trimmed = lengthHeader.trim()
    if (!contentLengthPattern.test(trimmed)) {
      return Effect.fail(new BodyUnreadable({ reason: "invalid_content_length" }))
    }
    const length = Number(trimmed)
    if (length > limitBytes) return Effect.fail(new BodyTooLarge({ limitBytes }))
    if (length === 0) return Effect.succeed(emptyBody)
    return Effect.flatMap(
      Effect.tryPromise({
        try: () => readKnownLength(request, length),
        catch: (cause) => new BodyUnreadable({ reason: "read_failed", cause }),
      }),
      (body) => (body instanceof BodyUnreadable ? Effect.fail(body) : Effect.succeed(body)),
    )
  }

  const stream = request.body
  if (stream === null) return Effect.succeed(emptyBody)
  return Effect.flatMap(
    Effect.tryPromise({
      try: () => readCounted(stream, limitBytes),
      catch: (cause) => new BodyUnreadable({ reason: "read_failed", cause }),
    }),
    (body) => (body instanceof BodyTooLarge ? Effect.fail(body) : Effect.succeed(body)),
  )
}
