/**
 * Builds the running service from validated settings: the stores, the
 * domain services, and, by ROLE, the HTTP server and the background workers.
 */
import { BunHttpServer } from "@effect/platform-bun"
import { Duration, Effect, Layer, Option } from "effect"
import { HttpRouter } from "effect/http"
import { SqlClient } from "effect/sql"
import { AnalyticsWriterLive } from "../analytics/AnalyticsWriter.ts"
import { ClickHouse, layer as clickHouseLayer } from "../analytics/ClickHouse.ts"
import { ApiKeys } from "../auth/ApiKeys.ts"
import { AppConfig, type AppSettings } from "../config/AppConfig.ts"
import type { ResolvedSecrets } from "../config/EmbeddedSecrets.ts"
import { TokenCipher } from "../crypto/TokenCipher.ts"
import { makeHttpApp } from "../http/HttpApp.ts"
import { Readiness } from "../http/Readiness.ts"
import { OAuthServicesLive } from "../oauth/OAuthLayer.ts"
import { OAuthWorkersLive } from "../oauth/OAuthWorkers.ts"
import { Database, describeDatabase } from "../storage/Database.ts"
import { Migrator } from "../storage/Migrator.ts"
import { Stores } from "../storage/Stores.ts"
import { makeIngestRoutes } from "../webhooks/IngestRoute.ts"
import { WebhookServicesLive } from "../webhooks/WebhooksLayer.ts"
import { WebhookWorkerLive } from "../webhooks/WebhookWorker.ts"

/** Builds the stores, each chosen by its URL setting: a server when set, embedded when not. */
export const makeStoresLayer = (settings: AppSettings) => {
  const connectTimeout = settings.storeConnectTimeout
  const database = Database.layer({
    url: Option.getOrUndefined(settings.databaseUrl),
    dataDir: settings.dataDir,
    connectTimeout,
  })
  const migrated = Layer.effectDiscard(Migrator.run()).pipe(Layer.provideMerge(database))
  const stores = Stores.layer({
    redisUrl: Option.getOrUndefined(settings.redisUrl),
    keyPrefix: settings.redisKeyPrefix,
    dataDir: settings.dataDir,
    connectTimeout,
  })
  const clickhouse = clickHouseLayer({
    url: Option.getOrUndefined(settings.clickhouseUrl),
    dataDir: settings.dataDir,
    ttlDays: settings.analyticsTtlDays,
  })
  return Layer.mergeAll(migrated, stores, clickhouse)
}

const ReadinessLive = (settings: AppSettings) =>
  Layer.effect(
    Readiness,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const database = {
        description: describeDatabase({
          url: Option.getOrUndefined(settings.databaseUrl),
          dataDir: settings.dataDir,
        }),
        ping: sql`SELECT 1`,
      }
      const stores = yield* Stores
      const clickhouse = yield* ClickHouse
      return {
        checks: [
          { name: "postgres", mode: database.description, check: database.ping },
          { name: "redis", mode: stores.description, check: stores.ping },
          { name: "clickhouse", mode: clickhouse.describe(), check: clickhouse.ping },
        ],
        draining: { value: false },
      }
    }),
  )

const logStores = (settings: AppSettings) =>
  Effect.gen(function* () {
    const stores = yield* Stores
    const url = Option.getOrUndefined(settings.databaseUrl)
    yield* Effect.logInfo(`postgres: ${describeDatabase({ url, dataDir: settings.dataDir })}`)
    yield* Effect.logInfo(`redis: ${stores.description}`)
    yield* Effect.logInfo(`clickhouse: ${(yield* ClickHouse).describe()}`)
  })

const makeHttpServer = (settings: AppSettings) =>
  HttpRouter.serve(makeHttpApp({ maxBodyBytes: settings.maxRequestBodyBytes }), {
    disableLogger: true,
    disableListenLog: true,
  }).pipe(
    Layer.provide(
      Layer.unwrap(
        Effect.map(makeIngestRoutes, (routes) =>
          BunHttpServer.layer({
            port: settings.port,
            hostname: settings.host,
            // Bun matches the webhook routes before the Effect router
            // receives the request; see src/webhooks/IngestRoute.ts.
            routes,
            // Bun's own cap rejects absurd bodies before any handler runs; the
            // routes enforce their tighter limits themselves.
            maxRequestBodySize:
              Math.max(settings.maxRequestBodyBytes, settings.webhookMaxBodyBytes) + 1024,
            gracefulShutdownTimeout: settings.shutdownTimeout,
            idleTimeout: 60,
          }),
        ),
      ),
    ),
  )

/** Builds the whole service for `settings`, with secrets already resolved. */
export const makeAppLayer = (settings: AppSettings, secrets: ResolvedSecrets) => {
  const infrastructure = Layer.mergeAll(
    makeStoresLayer(settings),
    TokenCipher.layerFromValue(secrets.tokenEncryptionKeys),
    AppConfig.layerWith(settings),
  )
  const services = Layer.mergeAll(
    ApiKeys.layer(secrets.adminApiKey),
    ReadinessLive(settings),
    WebhookServicesLive(settings).pipe(Layer.provideMerge(OAuthServicesLive())),
  ).pipe(Layer.provideMerge(infrastructure))
  const runsApi = settings.role !== "worker"
  const http = runsApi
    ? makeHttpServer(settings).pipe(
        Layer.tap(() =>
          Effect.logInfo(
            `listening on http://${settings.host}:${settings.port} (role ${settings.role})`,
          ),
        ),
      )
    : Layer.empty
  const workers =
    settings.role !== "api"
      ? Layer.mergeAll(OAuthWorkersLive(), WebhookWorkerLive(), AnalyticsWriterLive(settings))
      : Layer.empty
  const running = Layer.mergeAll(http, workers, Layer.effectDiscard(logStores(settings)))
  // Built after the server and workers, so its finalizer runs first on
  // shutdown: /ready turns 503 while in-flight requests drain.
  const shutdownNotice = Layer.effectDiscard(
    Effect.gen(function* () {
      const readiness = yield* Readiness
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          readiness.draining.value = true
        }).pipe(Effect.andThen(Effect.logInfo("shutting down: draining requests and workers"))),
      )
    }),
  )
  return shutdownNotice.pipe(Layer.provideMerge(running), Layer.provide(services))
}

export const shutdownGrace = (settings: AppSettings) => Duration.toMillis(settings.shutdownTimeout)
