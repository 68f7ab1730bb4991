/**
 * The service's settings, read once at start-up from the environment. The
 * README's configuration table lists every variable read here; keep the two
 * in step.
 */
import { Context, Duration, Effect, Layer, type LogLevel, Option, type Redacted } from "effect"
import * as P from "./Parsers.ts"
import { optional, optionalSecret, withDefault } from "./Setting.ts"

export type Role = "api" | "worker" | "all"
export type LogFormat = "text" | "json"

export interface AppSettings {
  readonly port: number
  readonly host: string
  /** Base URL the providers and browsers reach the service at. */
  readonly publicUrl: URL
  readonly role: Role
  readonly dataDir: string
  readonly logLevel: LogLevel.LogLevel
  readonly logFormat: LogFormat
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  /** Prefix of every Redis key, so deployments can share one Redis. */
  readonly redisKeyPrefix: string
  readonly clickhouseUrl: Option.Option<Redacted.Redacted<string>>
  readonly tokenEncryptionKeys: Option.Option<Redacted.Redacted<string>>
  readonly adminApiKey: Option.Option<Redacted.Redacted<string>>
  readonly allowedRedirectOrigins: ReadonlyArray<string>
  readonly allowHttpLoopbackProviders: boolean
  /** How long start-up waits for a configured store to respond. */
  readonly storeConnectTimeout: Duration.Duration
  /** How long SIGTERM waits for in-flight requests and workers. */
  readonly shutdownTimeout: Duration.Duration
  /** Largest JSON body the `/v1` API reads, in bytes. */
  readonly maxRequestBodyBytes: number
  /** Tokens expiring within this margin are refreshed before use. */
  readonly tokenRefreshMargin: Duration.Duration
  /** Pause between the background refresher's passes over expiring tokens. */
  readonly tokenRefreshInterval: Duration.Duration
  readonly providerTimeout: Duration.Duration
  /** Requests in flight to one provider at once, per process. */
  readonly providerConcurrency: number
  readonly webhookDedupWindow: Duration.Duration
  readonly webhookMaxBodyBytes: number
  readonly defaultDestinationUrl: Option.Option<URL>
  readonly destinationSigningSecret: Option.Option<Redacted.Redacted<string>>
  readonly deliveryMaxAttempts: number
  readonly deliveryConcurrency: number
  readonly analyticsBatchRows: number
  readonly analyticsBatchDelay: Duration.Duration
  readonly analyticsTtlDays: number
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "none"] as const

const LOG_LEVEL_NAMES: Record<(typeof LOG_LEVELS)[number], LogLevel.LogLevel> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal",
  none: "None",
}

/** Reads and validates every setting; fails with `ConfigInvalid` on the first bad one. */
export const readAppSettings = Effect.gen(function* () {
  const port = yield* withDefault("PORT", 3000, { parse: P.port, expected: "a TCP port 1-65535" })
  const host = yield* withDefault("HOST", "127.0.0.1", {
    parse: (raw) =>
      /^[A-Za-z0-9.:-]{1,253}$/.test(raw) ? P.ok(raw) : P.invalid("not a host name or IP address"),
    expected: "an interface address such as 0.0.0.0",
  })
  const publicUrl = yield* withDefault("PUBLIC_URL", new URL(`http://localhost:${port}`), {
    parse: P.baseUrl,
    expected: "an absolute http(s) URL such as https://oauth.example.com",
  })
  const role = yield* withDefault<Role>("ROLE", "all", {
    parse: P.oneOf(["api", "worker", "all"]),
    expected: "api, worker or all",
  })
  const dataDir = yield* withDefault("DATA_DIR", "./data", {
    parse: (raw) => P.ok(raw),
    expected: "a directory path",
  })
  const logLevel = yield* withDefault("LOG_LEVEL", "info" as const, {
    parse: P.oneOf(LOG_LEVELS),
    expected: LOG_LEVELS.join(", "),
  })
  const logFormat = yield* withDefault<LogFormat>("LOG_FORMAT", "text", {
    parse: P.oneOf(["text", "json"]),
    expected: "text or json",
  })

  const databaseUrl = yield* optionalSecret("DATABASE_URL", {
    parse: P.urlWithScheme(["postgres", "postgresql"]),
    expected: "postgres://user:password@host:5432/database",
  })
  const redisUrl = yield* optionalSecret("REDIS_URL", {
    parse: (raw) =>
      /^[^\s/]+:\d+(,[^\s/]+:\d+)+$/.test(raw)
        ? P.ok(raw)
        : P.urlWithScheme(["redis", "rediss"])(raw),
    expected: "redis://[:password@]host:6379[/db], or host:port,host:port for a cluster",
  })
  const redisKeyPrefix = yield* withDefault("REDIS_KEY_PREFIX", "", {
    parse: (raw) =>
      raw.length > 64
        ? P.invalid("longer than 64 characters")
        : /^[A-Za-z0-9:_.-]+$/.test(raw)
          ? P.ok(raw)
          : P.invalid("has characters outside A-Z a-z 0-9 : _ . -"),
    expected: "up to 64 characters from A-Z a-z 0-9 : _ . -, such as oauth:",
  })
  const clickhouseUrl = yield* optionalSecret("CLICKHOUSE_URL", {
    parse: P.urlWithScheme(["http", "https"]),
    expected: "http://user:password@host:8123/database",
  })
  const tokenEncryptionKeys = yield* optionalSecret("TOKEN_ENCRYPTION_KEYS", {
    parse: (raw) => P.ok(raw),
    expected: "comma-separated id:base64key pairs",
  })
  const adminApiKey = yield* optionalSecret("ADMIN_API_KEY", {
    parse: P.minLength(32),
    expected: "a random string of at least 32 characters (openssl rand -hex 32)",
  })

  const allowedRedirectOrigins = yield* withDefault<ReadonlyArray<string>>(
    "ALLOWED_REDIRECT_ORIGINS",
    [],
    { parse: P.origins, expected: "comma-separated origins such as https://app.example.com" },
  )
  const allowHttpLoopbackProviders = yield* withDefault("ALLOW_HTTP_LOOPBACK_PROVIDERS", false, {
    parse: P.boolean,
    expected: "true or false",
  })
  const duration = (variable: string, fallback: Duration.Input) =>
    withDefault(variable, Duration.fromInputUnsafe(fallback), {
      parse: P.duration,
      expected: "a duration such as 500ms, 30s, 5m or 24h",
    })
  const positiveDuration = (variable: string, fallback: Duration.Input) =>
    withDefault(variable, Duration.fromInputUnsafe(fallback), {
      parse: P.positiveDuration,
      expected: "a duration longer than zero, such as 500ms, 30s, 5m or 24h",
    })
  const count = (variable: string, fallback: number) =>
    withDefault(variable, fallback, { parse: P.positiveInteger, expected: "a positive integer" })
  const bytes = (variable: string, fallback: number) =>
    withDefault(variable, fallback, { parse: P.byteSize, expected: "a byte size such as 1mb" })

  const settings: AppSettings = {
    port,
    host,
    publicUrl,
    role,
    dataDir,
    logLevel: LOG_LEVEL_NAMES[logLevel],
    logFormat,
    databaseUrl,
    redisUrl,
    redisKeyPrefix,
    clickhouseUrl,
    tokenEncryptionKeys,
    adminApiKey,
    allowedRedirectOrigins,
    allowHttpLoopbackProviders,
    storeConnectTimeout: yield* duration("STORE_CONNECT_TIMEOUT", "30 seconds"),
    shutdownTimeout: yield* duration("SHUTDOWN_TIMEOUT", "20 seconds"),
    maxRequestBodyBytes: yield* bytes("MAX_REQUEST_BODY", 1024 * 1024),
    tokenRefreshMargin: yield* duration("TOKEN_REFRESH_MARGIN", "5 minutes"),
    tokenRefreshInterval: yield* positiveDuration("TOKEN_REFRESH_INTERVAL", "15 seconds"),
    providerTimeout: yield* positiveDuration("PROVIDER_TIMEOUT", "10 seconds"),
    providerConcurrency: yield* count("PROVIDER_CONCURRENCY", 256),
    webhookDedupWindow: yield* positiveDuration("WEBHOOK_DEDUP_WINDOW", "24 hours"),
    webhookMaxBodyBytes: yield* bytes("WEBHOOK_MAX_BODY", 1024 * 1024),
    defaultDestinationUrl: yield* optional("DEFAULT_DESTINATION_URL", {
      parse: (raw) => {
        const url = P.httpUrl(raw)
        if (!url.ok) return url
        return url.value.username !== "" || url.value.password !== ""
          ? P.invalid("contains a user name or password")
          : url
      },
      expected: "an absolute http(s) URL without credentials",
      secret: true,
    }),
    destinationSigningSecret: yield* optionalSecret("DESTINATION_SIGNING_SECRET", {
      parse: (raw) =>
        /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/.test(raw) &&
        Buffer.from(raw.slice(6), "base64").length >= 16
          ? P.ok(raw)
          : P.invalid("not whsec_ followed by the base64 of at least 16 bytes"),
      expected: "a Standard Webhooks secret: whsec_ followed by base64",
    }),
    deliveryMaxAttempts: yield* count("DELIVERY_MAX_ATTEMPTS", 8),
    deliveryConcurrency: yield* count("DELIVERY_CONCURRENCY", 32),
    analyticsBatchRows: yield* count("ANALYTICS_BATCH_ROWS", 5000),
    analyticsBatchDelay: yield* duration("ANALYTICS_BATCH_DELAY", "1 second"),
    analyticsTtlDays: yield* count("ANALYTICS_TTL_DAYS", 90),
  }
  return settings
})

/** True when every store runs embedded, the only mode that may generate its own keys. */
export const isEmbedded = (settings: AppSettings): boolean =>
  Option.isNone(settings.databaseUrl) &&
  Option.isNone(settings.redisUrl) &&
  Option.isNone(settings.clickhouseUrl)

export class AppConfig extends Context.Service<AppConfig, AppSettings>()("app/AppConfig") {
  static readonly layer = Layer.effect(AppConfig, readAppSettings)
  static readonly layerWith = (settings: AppSettings) => Layer.succeed(AppConfig, settings)
}
