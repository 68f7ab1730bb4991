/**
 * The HTTP client for calls to providers and destinations. It never follows
 * redirects, so a 3xx response from a token endpoint or destination counts
 * as a failed call. Following it would send the client secret, the
 * authorization code or a signed event to a host that was never configured,
 * past the https and loopback rules.
 */
import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"

export const OutboundHttpLive = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })),
)
