/**
 * The OAuth and provider services, wired together. They need the stores
 * (`SqlClient`, `KeyValue`, `Locks`, `CircuitBreakerStore`, and `StreamQueue`
 * for analytics events), `TokenCipher` and `AppConfig`. The layer provides
 * the provider registry, connect sessions, the callback, tokens and
 * revocations.
 */

import { Layer } from "effect"
import { AnalyticsEvents } from "../analytics/AnalyticsEvents.ts"
import { OutboundHttpLive } from "../http/OutboundHttp.ts"
import { ProviderRegistry, type ProviderRegistryOptions } from "../providers/ProviderRegistry.ts"
import { ProviderStore } from "../providers/ProviderStore.ts"
import { ConnectSessions } from "./ConnectSessions.ts"
import { IntegrationStore } from "./IntegrationStore.ts"
import { OAuthCallback } from "./OAuthCallback.ts"
import { OAuthEvents } from "./OAuthEvents.ts"
import { OAuthStates } from "./OAuthStates.ts"
import { ProviderHttp, type ProviderHttpOptions } from "./ProviderHttp.ts"
import { Revocations } from "./Revocations.ts"
import { Tokens } from "./Tokens.ts"

export interface OAuthLayerOptions {
  readonly registry?: ProviderRegistryOptions | undefined
  readonly http?: ProviderHttpOptions | undefined
}

export const OAuthServicesLive = (options: OAuthLayerOptions = {}) =>
  Layer.mergeAll(ConnectSessions.layer, OAuthCallback.layer, Tokens.layer, Revocations.layer).pipe(
    Layer.provideMerge(
      Layer.mergeAll(OAuthStates.layer, IntegrationStore.layer, ProviderHttp.layer(options.http)),
    ),
    Layer.provideMerge(ProviderRegistry.layer(options.registry)),
    Layer.provideMerge(ProviderStore.layer),
    Layer.provideMerge(
      Layer.mergeAll(
        OutboundHttpLive,
        OAuthEvents.layer.pipe(Layer.provide(AnalyticsEvents.layer)),
      ),
    ),
  )
