/**
 * The sender of a delivery as the ingest route uses it: the prepared
 * verifier, the body limit and the headers to keep, resolved from the
 * provider registry and the webhook endpoints without any I/O.
 */
import { Context } from "effect"
import type { WebhookSchemeName } from "./verify/Scheme.ts"
import type { PreparedVerifier } from "./verify/Verifier.ts"

export interface WebhookSource {
  readonly provider: string
  readonly endpointId: string | undefined
  readonly scheme: WebhookSchemeName
  readonly verify: PreparedVerifier
  /** Largest body accepted, in bytes. */
  readonly maxBodyBytes: number
  /** Lower-case names of the non-secret headers queued with the event. */
  readonly keptHeaders: ReadonlyArray<string>
}

/** Reason that no source exists for a request path. */
export type SourceMissing =
  /** No provider has this key. */
  | "unknown_provider"
  /** A provider with this key is stored but cannot be used; see `ProviderRegistry.problemOf`. */
  | "provider_invalid"
  /** The provider has no endpoint with this id, or the id is not a UUID. */
  | "unknown_endpoint"
  /** The provider exists but receives no webhooks, or its webhook settings are invalid. */
  | "webhooks_not_configured"

export interface WebhookSourcesShape {
  readonly find: (provider: string, endpointId: string | undefined) => WebhookSource | SourceMissing
}

export class WebhookSources extends Context.Service<WebhookSources, WebhookSourcesShape>()(
  "app/webhooks/WebhookSources",
) {}
