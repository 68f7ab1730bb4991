/**
 * One OAuth flow as a browser and the application's backend would run it:
 * create a connect session, read `state` from the returned authorization
 * URL, and call the callback with a code, expecting a 302 to the redirect
 * URL with `status=connected`. The same shape runs against the callback
 * floor, whose session route is simpler.
 */
import type { RequestStats } from "./drivers.ts"
import { buildRequest, type HttpResponse, headerValue, type Pool } from "./http1.ts"

export interface FlowTarget {
  readonly kind: "service" | "floor"
  readonly port: number
  /** Builds the session request for organization `organizationId`. */
  readonly sessionRequest: (organizationId: string) => Buffer
  readonly sessionStatus: number
  readonly callbackPath: string
}

export const serviceFlowTarget = (options: {
  readonly port: number
  readonly adminKey: string
  readonly providerKey: string
  readonly redirectUrl: string
}): FlowTarget => ({
  kind: "service",
  port: options.port,
  sessionRequest: (organizationId) =>
    buildRequest(
      "POST",
      "/v1/connect-sessions",
      `127.0.0.1:${options.port}`,
      { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" },
      JSON.stringify({
        organization_id: organizationId,
        provider: options.providerKey,
        redirect_url: options.redirectUrl,
      }),
    ),
  sessionStatus: 201,
  callbackPath: "/oauth/callback",
})

export const floorFlowTarget = (port: number): FlowTarget => ({
  kind: "floor",
  port,
  sessionRequest: (organizationId) =>
    buildRequest(
      "POST",
      "/session",
      `127.0.0.1:${port}`,
      { "content-type": "application/json" },
      JSON.stringify({ organization_id: organizationId }),
    ),
  sessionStatus: 201,
  callbackPath: "/callback",
})

const acceptStatus =
  (expected: number) =>
  (response: HttpResponse): string | undefined =>
    response.status === expected ? undefined : `status_${response.status}`

/** A 302 whose Location carries `status=connected`, as the service and the floor answer. */
const acceptConnected = (response: HttpResponse): string | undefined => {
  if (response.status !== 302) return `status_${response.status}`
  const location = headerValue(response, "location") ?? ""
  return location.includes("status=connected") ? undefined : "not_connected"
}

/** Creates one session and returns its state, or undefined after recording the failure. */
export const createSession = async (
  target: FlowTarget,
  pool: Pool,
  stats: RequestStats,
  organizationId: string,
  intendedAt: number,
): Promise<string | undefined> => {
  const response = await stats.measure(
    pool,
    target.sessionRequest(organizationId),
    intendedAt,
    acceptStatus(target.sessionStatus),
  )
  if (response === undefined || response.status !== target.sessionStatus) return undefined
  const { authorization_url: authorizationUrl } = JSON.parse(response.body.toString("utf8")) as {
    authorization_url: string
  }
  return new URL(authorizationUrl).searchParams.get("state") ?? undefined
}

/** Calls the callback with `code` and `state`; returns the integration id when one is in the redirect. */
export const completeCallback = async (
  target: FlowTarget,
  pool: Pool,
  stats: RequestStats,
  code: string,
  state: string,
  intendedAt: number,
): Promise<{ connected: boolean; integrationId: string | undefined }> => {
  const path = `${target.callbackPath}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`
  const response = await stats.measure(
    pool,
    buildRequest("GET", path, `127.0.0.1:${target.port}`, {}),
    intendedAt,
    acceptConnected,
  )
  if (response === undefined || acceptConnected(response) !== undefined) {
    return { connected: false, integrationId: undefined }
  }
  const location = headerValue(response, "location") ?? ""
  const integrationId = new URL(location).searchParams.get("integration_id") ?? undefined
  return { connected: true, integrationId }
}
