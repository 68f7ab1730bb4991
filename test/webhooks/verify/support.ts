import { createHmac } from "node:crypto"
import { expect } from "@effect/vitest"
import type { WebhookRequest } from "../../../src/webhooks/verify/Verifier.ts"
import type { WebhookRejected } from "../../../src/webhooks/verify/WebhookRejected.ts"

const encoder = new TextEncoder()

/** Builds a request the way the ingest route does, from a fetch `Headers`. */
export const makeRequest = (
  headers: Record<string, string>,
  body: string | Uint8Array,
  nowSeconds: number,
): WebhookRequest => {
  const fetchHeaders = new Headers(headers)
  return {
    headers: (name) => fetchHeaders.get(name),
    body: typeof body === "string" ? encoder.encode(body) : body,
    nowSeconds,
  }
}

export const hmacHex = (secret: string, content: string): string =>
  createHmac("sha256", secret).update(content).digest("hex")

/** Asserts that neither the error's text nor its JSON form contains any of the values. */
export const expectNoLeak = (error: WebhookRejected, values: ReadonlyArray<string>): void => {
  for (const value of values) {
    expect(String(error)).not.toContain(value)
    expect(JSON.stringify(error)).not.toContain(value)
  }
}
