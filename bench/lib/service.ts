/**
 * Starts the service under test as `bun src/main.ts` with its configuration
 * in the environment, and talks to its admin API with `fetch` for set-up and
 * read-back (not for load).
 */
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { type Child, spawnChild, waitForHttp } from "./children.ts"
import type { Environment } from "./environment.ts"

export interface Service {
  readonly child: Child
  readonly port: number
  readonly baseUrl: string
  readonly adminKey: string
}

/** Keys the service runs with; kept for the whole run, so a restarted service reads the same rows. */
export interface ServiceKeys {
  readonly adminKey: string
  /** `TOKEN_ENCRYPTION_KEYS` value, `k1:` and 32 random bytes in base64. */
  readonly encryptionKeys: string
}

export const generateServiceKeys = (): ServiceKeys => ({
  adminKey: randomBytes(32).toString("hex"),
  encryptionKeys: `k1:${randomBytes(32).toString("base64")}`,
})

interface ServiceOptions {
  readonly keys: ServiceKeys
  readonly repoDir: string
  readonly environment: Environment
  readonly port: number
  readonly allowedRedirectOrigin: string
  readonly logFile: string
  /** Directory for a CPU profile (`bun --cpu-prof`), written when the service exits. */
  readonly profileDir?: string | undefined
  readonly extraEnv?: Record<string, string> | undefined
}

const spawnService = (name: string, options: ServiceOptions) => {
  const { adminKey, encryptionKeys } = options.keys
  const profile =
    options.profileDir === undefined
      ? []
      : ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`]
  return spawnChild({
    name,
    cmd: ["bun", ...profile, join(options.repoDir, "src/main.ts")],
    cwd: options.repoDir,
    logFile: options.logFile,
    env: {
      PORT: String(options.port),
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${options.port}`,
      DATABASE_URL: options.environment.databaseUrl,
      REDIS_URL: options.environment.redisUrl,
      DATA_DIR: options.environment.dataDir,
      ADMIN_API_KEY: adminKey,
      TOKEN_ENCRYPTION_KEYS: encryptionKeys,
      ALLOW_HTTP_LOOPBACK_PROVIDERS: "true",
      ALLOWED_REDIRECT_ORIGINS: options.allowedRedirectOrigin,
      LOG_LEVEL: "warn",
      // The run ends with SIGTERM; a shorter drain keeps the end of a run quick.
      SHUTDOWN_TIMEOUT: "5s",
      ...options.extraEnv,
    },
  })
}

export const startService = async (options: ServiceOptions): Promise<Service> => {
  const child = spawnService("service", options)
  const baseUrl = `http://127.0.0.1:${options.port}`
  await waitForHttp(`${baseUrl}/ready`, child, 90_000)
  return { child, port: options.port, baseUrl, adminKey: options.keys.adminKey }
}

/**
 * Starts a second process of the service with ROLE=worker, which serves no
 * HTTP; it is ready once its log reports that the webhook worker started.
 */
export const startWorker = async (options: ServiceOptions): Promise<Child> => {
  const child = spawnService("worker", {
    ...options,
    extraEnv: { ...options.extraEnv, ROLE: "worker", LOG_LEVEL: "info" },
  })
  const deadline = performance.now() + 90_000
  while (performance.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`the worker process exited before it was ready; see ${options.logFile}`)
    }
    const log = await Bun.file(options.logFile)
      .text()
      .catch(() => "")
    if (log.includes("webhook worker started")) return child
    await Bun.sleep(200)
  }
  throw new Error(`the worker process did not start within 90 s; see ${options.logFile}`)
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Calls the admin API and returns the parsed JSON body; a non-2xx status throws `ApiError`. */
export const adminCall = async <T>(
  service: Service,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> => {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${service.adminKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  if (!response.ok) {
    throw new ApiError(response.status, `${method} ${path} returned ${response.status}: ${text}`)
  }
  return (text === "" ? undefined : JSON.parse(text)) as T
}

/** Configures a GitHub webhook sender; the OAuth fields point at the fake provider. */
export const putGithubProvider = (
  service: Service,
  key: string,
  webhookSecret: string,
  providerUrl: string,
) =>
  adminCall(service, "PUT", `/v1/providers/${key}`, {
    template: "github",
    client_id: `client-${key}`,
    client_secret: `secret-${key}`,
    authorization_url: `${providerUrl}/p/0/authorize`,
    token_url: `${providerUrl}/p/0/token`,
    webhook_secret: webhookSecret,
  })

/** Configures a generic OAuth 2.0 provider whose token endpoint responds after `latencyMillis`. */
export const putOAuthProvider = (
  service: Service,
  key: string,
  providerUrl: string,
  latencyMillis: number,
) =>
  adminCall(service, "PUT", `/v1/providers/${key}`, {
    template: "oauth2",
    client_id: `client-${key}`,
    client_secret: `secret-${key}`,
    authorization_url: `${providerUrl}/p/${latencyMillis}/authorize`,
    token_url: `${providerUrl}/p/${latencyMillis}/token`,
    revocation_url: `${providerUrl}/p/${latencyMillis}/revoke`,
    scopes: ["read", "write"],
  })

export interface WebhookCounters {
  readonly received: number
  readonly accepted: number
  readonly duplicates: number
  readonly rejected: number
}

/** Sums the service's Postgres-backed webhook counters of one provider. */
export const webhookCounters = async (
  service: Service,
  provider: string,
): Promise<WebhookCounters> => {
  const result = await adminCall<{ data: Array<WebhookCounters> }>(
    service,
    "GET",
    `/v1/webhooks/counters?provider=${encodeURIComponent(provider)}`,
  )
  const sum = (field: keyof WebhookCounters) =>
    result.data.reduce((total, row) => total + (row[field] ?? 0), 0)
  return {
    received: sum("received"),
    accepted: sum("accepted"),
    duplicates: sum("duplicates"),
    rejected: sum("rejected"),
  }
}
