/**
 * Signs deliveries to the destination with the Standard Webhooks scheme:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * keyed with the base64 bytes after `whsec_` in DESTINATION_SIGNING_SECRET.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto"
import { Redacted } from "effect"

export interface SignedHeaders {
  readonly "webhook-id": string
  readonly "webhook-timestamp": string
  readonly "webhook-signature"?: string
}

export type DestinationSigner = (
  id: string,
  timestampSeconds: number,
  body: string,
) => SignedHeaders

const secretPrefix = "whsec_"

/**
 * Builds the signer. Without a secret the headers carry the id and timestamp
 * only, so a destination can still deduplicate on `webhook-id`.
 */
export const makeDestinationSigner = (
  secret: Redacted.Redacted<string> | undefined,
): DestinationSigner => {
  if (secret === undefined) {
    return (id, timestampSeconds) => ({
      "webhook-id": id,
      "webhook-timestamp": String(timestampSeconds),
    })
  }
  const encoded = Redacted.value(secret).slice(secretPrefix.length)
  const key: KeyObject = createSecretKey(Buffer.from(encoded, "base64"))

  return (id, timestampSeconds, body) => {
    const timestamp = String(timestampSeconds)
    const signature = createHmac("sha256", key)
      .update(`${id}.${timestamp}.`)
      .update(body)
      .digest("base64")
    return {
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${signature}`,
    }
  }
}
