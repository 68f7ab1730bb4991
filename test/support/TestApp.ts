/**
 * Starts the whole service in the test's process, on a free loopback port,
 * with its stores in the given mode and its data in a fresh temporary
 * directory that is removed when the scope closes.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { Redis } from "ioredis"
import { layer as clickHouseLayer } from "../../src/analytics/ClickHouse.ts"
import { makeAppLayer } from "../../src/app/AppLayer.ts"
import type { AppSettings } from "../../src/config/AppConfig.ts"
import * as Logging from "../../src/observability/Logging.ts"
import { Database } from "../../src/storage/Database.ts"
import { Migrator } from "../../src/storage/Migrator.ts"
import { type StoreMode, testDatabaseUrl, testRedisUrl } from "./StoreModes.ts"

/**
 * One key ring for every test app, so apps that share the server-mode
 * database can read each other's rows. Test data only.
 */
export const TEST_KEY_RING = "test1:WWRh9047wpaiYSziL6pcal9CSIH+xQKYJLr3EE0DFP0="

export const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * PGlite and chDB data directories with every migration applied, made once
 * per test process. Each embedded-mode app starts from copies, which skips
 * initdb and both schemas' migrations and saves seconds per test.
 */
let storeTemplates: Promise<string> | undefined

const makeStoreTemplates = (): Promise<string> => {
  storeTemplates ??= Effect.runPromise(
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "store-template-"))
      process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
      const database = Database.layer({
        url: undefined,
        dataDir: dir,
        connectTimeout: "30 seconds",
      })
      const migrated = Layer.mergeAll(
        Layer.effectDiscard(Migrator.run()).pipe(Layer.provide(database)),
        clickHouseLayer({ url: undefined, dataDir: dir, ttlDays: 90 }),
      )
      yield* Effect.scoped(Layer.build(migrated))
      return dir
    }).pipe(Effect.provide(Logging.layer({ format: "text", level: "Warn" }))),
  )
  return storeTemplates
}

export const makeTempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), `${prefix}-`))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

/** Settings as the service would read them, for a test in `mode`. */
export const testSettings = (
  mode: StoreMode,
  base: { readonly port: number; readonly dataDir: string },
  overrides: Partial<AppSettings> = {},
): AppSettings => ({
  port: base.port,
  host: "127.0.0.1",
  publicUrl: new URL(`http://127.0.0.1:${base.port}`),
  role: "all",
  dataDir: base.dataDir,
  logLevel: "Warn",
  logFormat: "text",
  databaseUrl:
    mode === "servers" && testDatabaseUrl
      ? Option.some(Redacted.make(testDatabaseUrl))
      : Option.none(),
  redisUrl:
    mode === "servers" && testRedisUrl ? Option.some(Redacted.make(testRedisUrl)) : Option.none(),
  // Each app gets its own key space, so streams and consumer groups of
  // earlier test apps on the shared Redis never reach this one.
  redisKeyPrefix: `test:${crypto.randomUUID().slice(0, 8)}:`,
  clickhouseUrl: Option.none(),
  tokenEncryptionKeys: Option.some(Redacted.make(TEST_KEY_RING)),
  adminApiKey: Option.none(),
  allowedRedirectOrigins: ["http://127.0.0.1:1", "http://app.test"],
  allowHttpLoopbackProviders: true,
  storeConnectTimeout: Duration.seconds(10),
  shutdownTimeout: Duration.seconds(5),
  maxRequestBodyBytes: 1024 * 1024,
  tokenRefreshMargin: Duration.minutes(5),
  tokenRefreshInterval: Duration.seconds(1),
  providerTimeout: Duration.seconds(5),
  providerConcurrency: 64,
  webhookDedupWindow: Duration.hours(24),
  webhookMaxBodyBytes: 1024 * 1024,
  defaultDestinationUrl: Option.none(),
  destinationSigningSecret: Option.none(),
  deliveryMaxAttempts: 5,
  deliveryConcurrency: 8,
  analyticsBatchRows: 5000,
  analyticsBatchDelay: Duration.millis(200),
  analyticsTtlDays: 90,
  ...overrides,
})

/** Deletes every key under `prefix` on the shared Redis once a test app stops. */
const deleteRedisKeys = (url: string, prefix: string) =>
  Effect.promise(async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await client.connect()
      let cursor = "0"
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
        if (keys.length > 0) await client.del(...keys)
        cursor = next
      } while (cursor !== "0")
    } catch {
      // Cleanup is best effort: leftover keys only use memory on the test server.
    } finally {
      client.disconnect()
    }
  })

export interface TestApp {
  readonly baseUrl: string
  readonly adminKey: string
  readonly settings: AppSettings
  /** Sends a request to the app with the admin key unless `headers` sets another. */
  readonly fetch: (path: string, init?: RequestInit) => Promise<Response>
}

export const startTestApp = (options: {
  readonly mode: StoreMode
  readonly settings?: Partial<AppSettings>
}) =>
  Effect.gen(function* () {
    const port = yield* freePort
    const dataDir = yield* makeTempDir("oauth-service-test")
    const settings = testSettings(options.mode, { port, dataDir }, options.settings)
    if (Option.isNone(settings.databaseUrl)) {
      const templates = yield* Effect.promise(makeStoreTemplates)
      cpSync(join(templates, "pglite"), join(settings.dataDir, "pglite"), { recursive: true })
      cpSync(join(templates, "chdb"), join(settings.dataDir, "chdb"), { recursive: true })
    }
    const adminKey = `admin-${crypto.randomUUID()}-${crypto.randomUUID()}`
    const secrets = {
      tokenEncryptionKeys: Redacted.make(TEST_KEY_RING),
      adminApiKey: Redacted.make(adminKey),
      destinationSigningSecret: Option.getOrUndefined(settings.destinationSigningSecret),
      generatedAdminKey: false,
      files: [],
    }
    const redisUrl = testRedisUrl
    if (options.mode === "servers" && redisUrl !== undefined) {
      yield* Effect.addFinalizer(() => deleteRedisKeys(redisUrl, settings.redisKeyPrefix))
    }
    const logging = Logging.layer({ format: "text", level: settings.logLevel })
    yield* Layer.build(makeAppLayer(settings, secrets).pipe(Layer.provide(logging)))

    const baseUrl = `http://127.0.0.1:${settings.port}`
    const app: TestApp = {
      baseUrl,
      adminKey,
      settings,
      fetch: (path, init = {}) => {
        const headers = new Headers(init.headers)
        if (!headers.has("authorization")) headers.set("authorization", `Bearer ${adminKey}`)
        return fetch(baseUrl + path, { ...init, headers })
      },
    }
    return app
  })
