/**
 * The HTTP API definition. Each feature declares its group next to its code;
 * this file puts them together, and the OpenAPI document and the docs page
 * are generated from it.
 */
import { HttpApi, OpenApi } from "effect/http-api"
import { AnalyticsGroup } from "../analytics/AnalyticsApi.ts"
import { ApiKeysGroup } from "../auth/ApiKeysApi.ts"
import { ConnectSessionsGroup, IntegrationsGroup } from "../oauth/OAuthApi.ts"
import { ProvidersGroup } from "../providers/ProvidersApi.ts"
import { WebhooksGroup } from "../webhooks/WebhooksApi.ts"

export const Api = HttpApi.make("oauth-webhook-service")
  .add(ApiKeysGroup)
  .add(ProvidersGroup)
  .add(ConnectSessionsGroup)
  .add(IntegrationsGroup)
  .add(WebhooksGroup)
  .add(AnalyticsGroup)
  .annotateMerge(
    OpenApi.annotations({
      title: "OAuth integration and webhook service",
      version: "0.1.0",
      description:
        "Connects organizations to OAuth providers, hands out fresh access tokens, " +
        "and receives provider webhooks. Authenticate with `Authorization: Bearer <key>`.",
    }),
  )
