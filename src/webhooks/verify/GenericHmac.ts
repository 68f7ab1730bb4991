import { findMatchingKey, hmacKeysFromSecrets, type SignedPart } from "./Hmac.ts"
import { optionalHeader, requireHeader } from "./RequestHeaders.ts"
import { defaultToleranceSeconds, type GenericHmacOptions } from "./Scheme.ts"
import { decodeSignature } from "./SignatureEncoding.ts"
import { type CheckedTimestamp, checkTimestampHeader } from "./Timestamp.ts"
import {
  emptyDelivery,
  fromSyncCheck,
  makeWebhookVerifier,
  type WebhookRequest,
} from "./Verifier.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

/** One piece of a signed-content template: literal text or a placeholder. */
export type SignedContentPart =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "body" | "timestamp" | "id" }

const placeholderPattern = /\{(body|timestamp|id)\}|\{[^}]*\}/g

/**
 * Splits a template such as `{timestamp}.{body}` into parts. Returns
 * `undefined` for an unknown placeholder or when `{body}` does not occur
 * exactly once.
 */
export const parseSignedContent = (
  template: string,
): ReadonlyArray<SignedContentPart> | undefined => {
  const parts: Array<SignedContentPart> = []
  let bodyCount = 0
  let end = 0

  for (const match of template.matchAll(placeholderPattern)) {
    const kind = match[1] as "body" | "timestamp" | "id" | undefined
    if (kind === undefined) return undefined
    if (match.index > end) parts.push({ kind: "text", text: template.slice(end, match.index) })
    parts.push({ kind })
    if (kind === "body") bodyCount++
    end = match.index + match[0].length
  }
  if (end < template.length) parts.push({ kind: "text", text: template.slice(end) })
  return bodyCount === 1 ? parts : undefined
}

/** The template used when `signedContent` is not configured. */
export const defaultSignedContent = (options: GenericHmacOptions): string =>
  options.timestampHeader === undefined ? "{body}" : "{timestamp}.{body}"

/**
 * Parses the configured template and checks it against the headers: a
 * timestamp header is useless unless the timestamp is signed, and `{id}`
 * needs an id header. Returns the parts, or a description of the problem.
 */
export const compileSignedContent = (
  options: GenericHmacOptions,
): ReadonlyArray<SignedContentPart> | string => {
  const parts = parseSignedContent(options.signedContent ?? defaultSignedContent(options))
  if (parts === undefined) {
    return "must contain {body} exactly once and no placeholders other than {timestamp} and {id}"
  }

  const uses = (kind: SignedContentPart["kind"]) => parts.some((part) => part.kind === kind)
  if (uses("timestamp") !== (options.timestampHeader !== undefined)) {
    return "must contain {timestamp} exactly when timestampHeader is set"
  }
  if (uses("id") && options.idHeader === undefined) return "uses {id}, which needs idHeader"
  return parts
}

/**
 * A provider-defined HMAC: configurable header, algorithm, encoding, prefix,
 * optional timestamp and id headers, and the template of the signed content.
 */
export const GenericHmacVerifier = makeWebhookVerifier<GenericHmacOptions>(
  "generic-hmac",
  (config) => {
    const options = config.options
    const keys = hmacKeysFromSecrets(options.algorithm, config.secrets)
    const template = compileSignedContent(options)
    if (typeof template === "string") throw new Error(`generic-hmac: signedContent ${template}`)
    const signsId = template.some((part) => part.kind === "id")
    const prefix = options.prefix ?? ""
    const toleranceSeconds = options.toleranceSeconds ?? defaultToleranceSeconds
    const signatureHeader = options.signatureHeader.toLowerCase()

    return fromSyncCheck((request) => {
      const value = requireHeader(request, signatureHeader)
      if (value instanceof WebhookRejected) return value
      const entries =
        options.signatureSeparator === undefined ? [value] : value.split(options.signatureSeparator)
      const prefixed = entries.map((entry) => entry.trim()).filter((e) => e.startsWith(prefix))
      if (prefixed.length === 0) return WebhookRejected.make("malformed_header", signatureHeader)

      let timestamp: CheckedTimestamp | undefined
      if (options.timestampHeader !== undefined) {
        const checked = checkTimestampHeader(
          request,
          options.timestampHeader.toLowerCase(),
          toleranceSeconds,
        )
        if (checked instanceof WebhookRejected) return checked
        timestamp = checked
      }

      let id: string | undefined
      if (options.idHeader !== undefined) {
        const header = options.idHeader.toLowerCase()
        const read = signsId ? requireHeader(request, header) : optionalHeader(request, header)
        if (read instanceof WebhookRejected) return read
        id = read
      }

      const candidates: Array<Buffer> = []
      for (const entry of prefixed) {
        const candidate = decodeSignature(
          entry.slice(prefix.length),
          options.encoding,
          keys.digestLength,
        )
        if (candidate !== undefined) candidates.push(candidate)
      }
      const signed = template.map((part): SignedPart => {
        if (part.kind === "text") return part.text
        if (part.kind === "body") return request.body
        if (part.kind === "timestamp") return timestamp?.text ?? ""
        return id ?? ""
      })
      if (findMatchingKey(keys, signed, candidates) < 0) {
        return WebhookRejected.make("signature_mismatch", signatureHeader)
      }

      return {
        ...emptyDelivery,
        deliveryId: id,
        routingKey: readOptional(request, options.routingKeyHeader),
        eventType: readOptional(request, options.eventTypeHeader),
        timestampSeconds: timestamp?.seconds,
      }
    })
  },
)

const readOptional = (request: WebhookRequest, header: string | undefined): string | undefined =>
  header === undefined ? undefined : optionalHeader(request, header)
