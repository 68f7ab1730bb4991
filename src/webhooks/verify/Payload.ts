/**
 * Readers of the few body fields that a delivery id, handshake or routing key
 * needs. The verifiers call them only after the signature verifies, and parse
 * each body at most once.
 */

export type JsonObject = { readonly [key: string]: unknown }

const utf8 = new TextDecoder("utf-8")

export const decodeUtf8 = (body: Uint8Array): string => utf8.decode(body)

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Parses JSON text whose top level must be an object. */
export const parseJsonObjectText = (text: string): JsonObject | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return isJsonObject(value) ? value : undefined
}

export const parseJsonObject = (body: Uint8Array): JsonObject | undefined =>
  parseJsonObjectText(decodeUtf8(body))

/** Tests whether the first byte after JSON whitespace (RFC 8259 section 2) is `{`. */
export const startsWithJsonObject = (body: Uint8Array): boolean => {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue
    return byte === 0x7b
  }
  return false
}

export const objectField = (
  object: JsonObject | undefined,
  key: string,
): JsonObject | undefined => {
  const value = object?.[key]
  return isJsonObject(value) ? value : undefined
}

export const stringField = (object: JsonObject | undefined, key: string): string | undefined => {
  const value = object?.[key]
  return typeof value === "string" ? value : undefined
}

/** Reads an id that providers send as a number or a string. */
export const idField = (object: JsonObject | undefined, key: string): string | undefined => {
  const value = object?.[key]
  if (typeof value === "string") return value
  return typeof value === "number" && Number.isSafeInteger(value) ? String(value) : undefined
}
