/**
 * Every HTTP route of the service: the `/v1` API generated from its
 * definition, the OpenAPI document and docs page, the system routes, and the
 * OAuth callback that browsers call. The webhook ingest routes are Bun's
 * own, matched before this app; it keeps them for the path spellings that
 * Bun's router does not match (src/webhooks/IngestRoute.ts).
 */
import { ByteSize, Effect, Layer } from "effect"
import { HttpIncomingMessage, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiMiddleware, HttpApiScalar } from "effect/http-api"
import { AnalyticsHandlers } from "../analytics/AnalyticsHandlers.ts"
import { ApiKeysHandlers } from "../auth/ApiKeysHandlers.ts"
import { CallbackRoute } from "../oauth/CallbackRoute.ts"
import { ConnectSessionsHandlers, IntegrationsHandlers } from "../oauth/OAuthHandlers.ts"
import { ProvidersHandlers } from "../providers/ProvidersHandlers.ts"
import { WebhookIngestFallbackRoutes } from "../webhooks/IngestRoute.ts"
import { WebhooksHandlers } from "../webhooks/WebhooksHandlers.ts"
import { Api } from "./Api.ts"
import { errorBody } from "./ApiErrors.ts"
import { ApiErrors, AuthenticationLive } from "./Authentication.ts"
import { RequestLogLive } from "./RequestLog.ts"
import { SystemRoutes } from "./SystemRoutes.ts"

/**
 * Renders request decoding failures in the API's error format. The
 * message names the part of the request that was wrong and the schema's
 * description of the problem, which includes the offending path.
 */
const SchemaErrorsLive = HttpApiMiddleware.layerSchemaErrorTransform(ApiErrors, (error) =>
  Effect.succeed(
    HttpServerResponse.jsonUnsafe(
      errorBody("invalid_request", `Invalid ${error.kind.toLowerCase()}: ${error.cause.message}`),
      { status: 400 },
    ),
  ),
)

/** The middleware every `/v1` group uses; handler layers need it when they are built. */
const MiddlewareLive = Layer.mergeAll(AuthenticationLive, SchemaErrorsLive)

/** One handler layer per API group. */
const HandlersLive = Layer.mergeAll(
  ApiKeysHandlers,
  ProvidersHandlers,
  ConnectSessionsHandlers,
  IntegrationsHandlers,
  WebhooksHandlers,
  AnalyticsHandlers,
).pipe(Layer.provide(MiddlewareLive))

export const ApiRoutes = HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(
  Layer.provide(HandlersLive),
)

export const DocsRoutes = HttpApiScalar.layer(Api, { path: "/docs" })

/** The HTTP application for `HttpRouter.serve`, limited to `maxBodyBytes` per JSON body. */
export const makeHttpApp = (options: { readonly maxBodyBytes: number }) =>
  Layer.mergeAll(
    ApiRoutes,
    DocsRoutes,
    SystemRoutes,
    RequestLogLive,
    CallbackRoute,
    WebhookIngestFallbackRoutes,
  ).pipe(
    Layer.provide(
      Layer.succeed(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(options.maxBodyBytes)),
    ),
  )
