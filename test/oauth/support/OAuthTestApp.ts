/**
 * Helpers for tests that drive the OAuth flows over HTTP against a running
 * test app: configure a provider, start a connect session, call the
 * callback as the provider's redirect would, and read JSON.
 */
import { expect } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { AppSettings } from "../../../src/config/AppConfig.ts"
import type { StoreMode } from "../../support/StoreModes.ts"
import { startTestApp, type TestApp } from "../../support/TestApp.ts"

/** The application's page the callback redirects to; its origin is allowed in test settings. */
export const APP_REDIRECT = "http://app.test/connected"

/** One running app shared by the tests of a file. */
export class App extends Context.Service<App, TestApp>()("test/oauth/App") {
  static readonly layer = (mode: StoreMode, settings: Partial<AppSettings> = {}) =>
    Layer.effect(App, startTestApp({ mode, settings }))
}

export const json = (response: Response) => Effect.promise(() => response.json() as Promise<any>)

export const call = (app: TestApp, path: string, init: RequestInit = {}) =>
  Effect.promise(() => app.fetch(path, { redirect: "manual", ...init }))

export const send = (app: TestApp, method: string, path: string, body?: unknown) =>
  call(app, path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

export const randomKey = (prefix: string) =>
  `${prefix}-${crypto.randomUUID().slice(0, 8)}`.toLowerCase()

export const randomOrganization = () => `org-${crypto.randomUUID()}`

/** Creates or replaces a provider and expects success. */
export const putProvider = (app: TestApp, key: string, body: Record<string, unknown>) =>
  Effect.gen(function* () {
    const response = yield* send(app, "PUT", `/v1/providers/${key}`, body)
    const payload = yield* json(response)
    expect(response.status, JSON.stringify(payload)).toBe(200)
    return payload
  })

export interface StartedSession {
  readonly id: string
  readonly authorizationUrl: URL
  readonly state: string
}

/** Creates a connect session and returns its authorization URL and state. */
export const startSession = (
  app: TestApp,
  input: {
    readonly organizationId: string
    readonly provider: string
    readonly scopes?: ReadonlyArray<string>
    readonly metadata?: Record<string, unknown>
    readonly redirectUrl?: string
  },
) =>
  Effect.gen(function* () {
    const response = yield* send(app, "POST", "/v1/connect-sessions", {
      organization_id: input.organizationId,
      provider: input.provider,
      redirect_url: input.redirectUrl ?? APP_REDIRECT,
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    })
    const payload = yield* json(response)
    expect(response.status, JSON.stringify(payload)).toBe(201)
    const authorizationUrl = new URL(payload.authorization_url)
    const session: StartedSession = {
      id: payload.id,
      authorizationUrl,
      state: authorizationUrl.searchParams.get("state") ?? "",
    }
    return session
  })

/** Calls the callback as the provider's redirect would, without following the answer. */
export const callback = (app: TestApp, query: Record<string, string>) =>
  Effect.promise(() =>
    fetch(`${app.baseUrl}/oauth/callback?${new URLSearchParams(query)}`, { redirect: "manual" }),
  )

/** The query of a callback redirect to the application. */
export const redirectQuery = (response: Response): URLSearchParams => {
  expect(response.status).toBe(302)
  const location = new URL(response.headers.get("location") ?? "")
  expect(location.origin + location.pathname).toBe(APP_REDIRECT)
  return location.searchParams
}

/** Runs the whole flow with `code` and returns the new integration's id. */
export const connect = (
  app: TestApp,
  input: Parameters<typeof startSession>[1] & { readonly code?: string },
) =>
  Effect.gen(function* () {
    const session = yield* startSession(app, input)
    const response = yield* callback(app, { code: input.code ?? "code-1", state: session.state })
    const query = redirectQuery(response)
    expect(query.get("error"), query.get("error_description") ?? "").toBeNull()
    expect(query.get("status")).toBe("connected")
    return query.get("integration_id") ?? ""
  })

export const getToken = (app: TestApp, integrationId: string, body?: unknown) =>
  send(app, "POST", `/v1/integrations/${integrationId}/token`, body)
