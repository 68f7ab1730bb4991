/**
 * Two service processes on the same Postgres and Redis: a provider written
 * on one is seen by the other, and many concurrent token requests on both
 * refresh a rotating refresh token exactly once. Servers mode only, because
 * embedded stores belong to one process.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { hasServers, testDatabaseUrl, testRedisUrl } from "../support/StoreModes.ts"
import { freePort, TEST_KEY_RING, type TestApp } from "../support/TestApp.ts"
import { startFakeProvider } from "./support/FakeProvider.ts"
import {
  connect,
  getToken,
  json,
  putProvider,
  randomKey,
  randomOrganization,
  send,
} from "./support/OAuthTestApp.ts"
import { refreshRequests, rotatingProvider } from "./support/RotatingProvider.ts"

const ADMIN_KEY = `admin-${crypto.randomUUID()}-${crypto.randomUUID()}`

/** Starts `bun src/main.ts` as a separate process and waits until `/health` responds. */
const spawnService = Effect.gen(function* () {
  const port = yield* freePort
  const dataDir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "oauth-service-process-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )
  const baseUrl = `http://127.0.0.1:${port}`
  yield* Effect.acquireRelease(
    Effect.sync(() =>
      Bun.spawn(["bun", "src/main.ts"], {
        cwd: join(import.meta.dirname, "../.."),
        env: {
          ...process.env,
          PORT: String(port),
          HOST: "127.0.0.1",
          PUBLIC_URL: baseUrl,
          DATABASE_URL: testDatabaseUrl ?? "",
          REDIS_URL: testRedisUrl ?? "",
          TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING,
          ADMIN_API_KEY: ADMIN_KEY,
          ALLOWED_REDIRECT_ORIGINS: "http://app.test",
          ALLOW_HTTP_LOOPBACK_PROVIDERS: "true",
          DATA_DIR: dataDir,
          LOG_LEVEL: "warn",
        },
        stdout: "inherit",
        stderr: "inherit",
      }),
    ),
    (process) =>
      Effect.promise(async () => {
        process.kill("SIGTERM")
        await process.exited
      }),
  )
  yield* Effect.tryPromise(() => fetch(`${baseUrl}/health`)).pipe(
    Effect.filterOrFail((response) => response.ok),
    Effect.retry({ schedule: Schedule.spaced("250 millis"), times: 240 }),
  )
  const app: TestApp = {
    baseUrl,
    adminKey: ADMIN_KEY,
    settings: undefined as never,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers)
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${ADMIN_KEY}`)
      return fetch(baseUrl + path, { ...init, headers })
    },
  }
  return app
})

describe("two service processes", () => {
  it.live.skipIf(!hasServers)(
    "concurrent token requests refresh once across processes",
    () =>
      Effect.gen(function* () {
        const [first, second] = yield* Effect.all([spawnService, spawnService], {
          concurrency: "unbounded",
        })
        const fake = yield* startFakeProvider
        rotatingProvider(fake)
        const key = randomKey("cross")
        yield* putProvider(first, key, {
          template: "oauth2",
          client_id: "client-id",
          client_secret: "client-secret",
          authorization_url: `${fake.url}/authorize`,
          token_url: `${fake.url}/token`,
        })
        // The second process polls the providers table for changes.
        yield* send(second, "GET", `/v1/providers/${key}`).pipe(
          Effect.filterOrFail((response) => response.status === 200),
          Effect.retry({ schedule: Schedule.spaced("250 millis"), times: 40 }),
        )

        const id = yield* connect(first, { organizationId: randomOrganization(), provider: key })
        const requests = Array.from({ length: 40 }, (_, index) =>
          index % 2 === 0 ? first : second,
        )
        const tokens = yield* Effect.forEach(
          requests,
          (app) => Effect.flatMap(getToken(app, id), json),
          {
            concurrency: "unbounded",
          },
        )

        expect(tokens.map((token) => token.access_token)).toEqual(Array(40).fill("AT2"))
        expect(refreshRequests(fake)).toHaveLength(1)
        const integration = yield* json(yield* send(second, "GET", `/v1/integrations/${id}`))
        expect(integration.status).toBe("connected")
      }).pipe(Effect.scoped),
    120_000,
  )
})
