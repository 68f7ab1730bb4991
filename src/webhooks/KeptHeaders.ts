/**
 * The request headers queued with each event, per scheme. The list is an
 * allowlist: signatures, channel tokens and `Authorization` are never kept,
 * so neither the stream nor a dead-letter listing contains a credential.
 */
import type { WebhookSchemeConfig, WebhookSchemeName } from "./verify/Scheme.ts"

const byScheme: Readonly<Record<WebhookSchemeName, ReadonlyArray<string>>> = {
  slack: ["x-slack-retry-num", "x-slack-retry-reason"],
  github: [
    "x-github-event",
    "x-github-delivery",
    "x-github-hook-id",
    "x-github-hook-installation-target-id",
    "x-github-hook-installation-target-type",
  ],
  stripe: [],
  "standard-webhooks": ["webhook-id", "webhook-timestamp"],
  shopify: [
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-api-version",
    "x-shopify-triggered-at",
  ],
  zoom: ["x-zm-request-timestamp"],
  google: [
    "x-goog-channel-id",
    "x-goog-message-number",
    "x-goog-resource-id",
    "x-goog-resource-state",
    "x-goog-resource-uri",
    "x-goog-changed",
    "x-goog-channel-expiration",
  ],
  "google-pubsub": [],
  "generic-hmac": [],
}

/** Returns the header names to keep for a validated configuration. */
export const keptHeaderNames = (config: WebhookSchemeConfig): ReadonlyArray<string> => {
  const names = ["content-type", ...byScheme[config.scheme]]
  if (config.scheme === "generic-hmac") {
    const { idHeader, eventTypeHeader, routingKeyHeader, timestampHeader } = config.options
    for (const header of [idHeader, eventTypeHeader, routingKeyHeader, timestampHeader]) {
      if (header !== undefined && header.toLowerCase() !== config.options.signatureHeader) {
        names.push(header.toLowerCase())
      }
    }
  }
  return [...new Set(names)]
}

/** Copies the kept headers that are present, into a plain object for the stream payload. */
export const pickHeaders = (
  headers: Headers,
  names: ReadonlyArray<string>,
): Record<string, string> => {
  const kept: Record<string, string> = {}
  for (const name of names) {
    const value = headers.get(name)
    if (value !== null) kept[name] = value
  }
  return kept
}
