/**
 * Helpers for webhook tests against a running test app: a settable ingest
 * clock, a short delivery retry policy, providers and endpoints created over
 * the API, a loopback destination that records what the workers deliver,
 * and polling for asynchronous outcomes.
 */
import { expect } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted, Schedule } from "effect"
import type { AppSettings } from "../../../src/config/AppConfig.ts"
import { IngestClock } from "../../../src/webhooks/IngestClock.ts"
import { DeliveryRetryPolicy } from "../../../src/webhooks/RetrySchedule.ts"
import type { StoreMode } from "../../support/StoreModes.ts"
import { startTestApp, type TestApp } from "../../support/TestApp.ts"

/** Secret the service signs destination deliveries with (Standard Webhooks). */
export const DESTINATION_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/** The ingest clock of the test app: real time unless a test fixes it. */
export interface TestClock {
  /** Fixes the clock at `seconds` since the Unix epoch. */
  readonly setSeconds: (seconds: number) => void
  readonly reset: () => void
}

export interface WebhookTestApp extends TestApp {
  readonly clock: TestClock
}

export class WebhookApp extends Context.Service<WebhookApp, WebhookTestApp>()(
  "test/webhooks/WebhookApp",
) {
  static readonly layer = (mode: StoreMode, settings: Partial<AppSettings> = {}) =>
    Layer.effect(WebhookApp, startWebhookApp(mode, settings))
}

/** Starts the service with a settable ingest clock and retries a few milliseconds apart. */
export const startWebhookApp = (mode: StoreMode, settings: Partial<AppSettings> = {}) =>
  Effect.gen(function* () {
    let fixedMillis: number | undefined
    const clock: TestClock = {
      setSeconds: (seconds) => {
        fixedMillis = seconds * 1000
      },
      reset: () => {
        fixedMillis = undefined
      },
    }
    const app = yield* startTestApp({
      mode,
      settings: {
        destinationSigningSecret: Option.some(Redacted.make(DESTINATION_SECRET)),
        ...settings,
      },
    }).pipe(
      Effect.provideService(IngestClock, () => fixedMillis ?? Date.now()),
      Effect.provideService(DeliveryRetryPolicy, { baseMillis: 20, capMillis: 200 }),
    )
    return { ...app, clock } satisfies WebhookTestApp
  })

export const json = (response: Response) => Effect.promise(() => response.json() as Promise<any>)

export const randomKey = (prefix: string) =>
  `${prefix}-${crypto.randomUUID().slice(0, 8)}`.toLowerCase()

/** Sends an API request with the admin key and returns the status and parsed body. */
export const api = (app: TestApp, method: string, path: string, body?: unknown) =>
  Effect.gen(function* () {
    const response = yield* Effect.promise(() =>
      app.fetch(path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
    const text = yield* Effect.promise(() => response.text())
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
  })

/** Creates a provider and expects success. */
export const createProvider = (app: TestApp, key: string, body: Record<string, unknown>) =>
  Effect.gen(function* () {
    const result = yield* api(app, "PUT", `/v1/providers/${key}`, body)
    expect(result.status, JSON.stringify(result.body)).toBe(200)
    return result.body
  })

/** Client credentials that the OAuth templates require; test values only. */
const CLIENT_FIELDS = { client_id: "client-id", client_secret: "client-secret" }

/**
 * Creates or replaces provider `key` from `template`, with test client
 * credentials and the given fields, and expects success.
 */
export const putTemplateProvider = (
  app: TestApp,
  key: string,
  template: string,
  fields: Record<string, unknown> = {},
) => createProvider(app, key, { template, ...CLIENT_FIELDS, ...fields })

/** Posts a delivery to the ingest route as a provider would. */
export const deliver = (
  app: TestApp,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
) =>
  Effect.gen(function* () {
    const response = yield* Effect.promise(() =>
      fetch(app.baseUrl + path, { method: "POST", body, headers }),
    )
    const text = yield* Effect.promise(() => response.text())
    return { status: response.status, text, headers: response.headers }
  })

/** Parses an error body and returns its code. */
export const errorCode = (text: string): string | undefined => {
  try {
    return JSON.parse(text).error?.code
  } catch {
    return undefined
  }
}

/**
 * Retries `check` until it succeeds, 50 ms apart, also when it throws (a
 * failed `expect`). The last failure is reported as is. The bound is far
 * above any expected wait, so no assertion depends on how long the work took.
 */
export const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => check).pipe(
    Effect.catchCause((cause) => Effect.fail(cause)),
    Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo({ duration: "25 seconds" }))),
    Effect.catch((cause) => Effect.failCause(cause)),
  )

/** Reads the counters of one provider, as `GET /v1/webhooks/counters` returns them. */
export const countersOf = (app: TestApp, provider: string) =>
  Effect.map(api(app, "GET", `/v1/webhooks/counters?provider=${provider}`), (result) => {
    expect(result.status).toBe(200)
    return result.body.data as ReadonlyArray<Record<string, any>>
  })
