/**
 * The webhook event as it sits in the `webhooks:events` stream: a verified
 * delivery with the few headers worth keeping and the raw body. The ingest
 * route writes it, the workers read it, and dead letters carry it unchanged.
 */
import { createHash } from "node:crypto"

/** Stream of verified events waiting for a worker. */
export const eventsStream = "webhooks:events"

/** Stream of events whose delivery failed for good. */
export const deadLetterStream = "webhooks:dead"

/** The consumer group of the workers on `eventsStream`. */
export const workerGroup = "webhook-workers"

export type BodyEncoding = "utf8" | "base64"

export interface QueuedWebhook {
  readonly provider: string
  /** Webhook endpoint the delivery came in on; undefined for the provider-wide route. */
  readonly endpointId: string | undefined
  /** Provider-given delivery id; undefined when the scheme has none. */
  readonly deliveryId: string | undefined
  readonly routingKey: string | undefined
  readonly eventType: string | undefined
  /** Receive time in milliseconds since the Unix epoch. */
  readonly receivedAt: number
  /** Non-secret request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  /** The raw body: the text when it is valid UTF-8, base64 otherwise. */
  readonly body: string
  readonly bodyEncoding: BodyEncoding
  /**
   * Id sent to the destination as `webhook-id`. Set on replay from the
   * dead-letter stream; otherwise derived by `eventIdOf`.
   */
  readonly eventId?: string | undefined
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** Stores the body as text when it is valid UTF-8, so it stays readable in dead letters. */
export const encodeBody = (
  body: Uint8Array,
): { readonly body: string; readonly bodyEncoding: BodyEncoding } => {
  try {
    return { body: strictUtf8.decode(body), bodyEncoding: "utf8" }
  } catch {
    return { body: Buffer.from(body).toString("base64"), bodyEncoding: "base64" }
  }
}

export const decodeBody = (event: QueuedWebhook): Uint8Array =>
  event.bodyEncoding === "base64"
    ? new Uint8Array(Buffer.from(event.body, "base64"))
    : new TextEncoder().encode(event.body)

export const encodeEvent = (event: QueuedWebhook): string => JSON.stringify(event)

const optionalString = (value: unknown): value is string | undefined =>
  value === undefined || typeof value === "string"

const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((entry) => typeof entry === "string")

/** Parses a stream payload; `undefined` for a payload this version cannot read. */
export const decodeEvent = (payload: string): QueuedWebhook | undefined => {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const valid =
    typeof value.provider === "string" &&
    optionalString(value.endpointId) &&
    optionalString(value.deliveryId) &&
    optionalString(value.routingKey) &&
    optionalString(value.eventType) &&
    optionalString(value.eventId) &&
    typeof value.receivedAt === "number" &&
    isStringRecord(value.headers) &&
    typeof value.body === "string" &&
    (value.bodyEncoding === "utf8" || value.bodyEncoding === "base64")
  return valid ? (value as unknown as QueuedWebhook) : undefined
}

/**
 * Returns the event's stable id. With a provider delivery id it is a digest of
 * provider, endpoint and delivery id, so an event enqueued twice (an append
 * that timed out but went through, then the provider's retry) keeps one id
 * and is processed once. Without one, the stream entry id is the only
 * identity there is.
 */
export const eventIdOf = (event: QueuedWebhook, entryId: string): string => {
  if (event.eventId !== undefined) return event.eventId
  if (event.deliveryId === undefined) return `evt_${entryId}`
  const digest = createHash("sha256")
    .update(event.provider)
    .update("\u0000")
    .update(event.endpointId ?? "")
    .update("\u0000")
    .update(event.deliveryId)
    .digest("base64url")
  return `evt_${digest.slice(0, 32)}`
}
