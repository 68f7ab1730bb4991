import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import type { ProviderResponse } from "../../../src/oauth/protocol/ResponseBody.ts"
import { TokenEndpointError } from "../../../src/oauth/protocol/TokenEndpointError.ts"
import { parseTokenResponse } from "../../../src/oauth/protocol/TokenResponse.ts"
import { clientFor, formResponse, jsonResponse } from "./clients.ts"

const NOW = Date.parse("2025-03-01T12:00:00Z")

const generic = clientFor("oauth2", {
  authorization_url: "https://auth.example.com/authorize",
  token_url: "https://auth.example.com/token",
})

const parseWith = (
  template: Effect.Effect<unknown, unknown> | string,
  response: ProviderResponse,
) =>
  Effect.gen(function* () {
    const client = typeof template === "string" ? yield* clientFor(template) : yield* generic
    return yield* parseTokenResponse(client as never, response, { requestedScopes: ["requested"] })
  })

const failWith = (template: string | typeof generic, response: ProviderResponse) =>
  Effect.flip(parseWith(template, response)).pipe(
    Effect.filterOrElse(
      (error): error is TokenEndpointError => error instanceof TokenEndpointError,
      (error) => Effect.die(error),
    ),
  )

describe("parseTokenResponse", () => {
  it.effect("reads a standard JSON response", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const tokens = yield* parseWith(
        generic,
        jsonResponse(200, {
          access_token: "at-1",
          token_type: "Bearer",
          expires_in: 3600,
          refresh_token: "rt-1",
          scope: "read write",
        }),
      )
      expect(Redacted.value(tokens.accessToken)).toBe("at-1")
      expect(Redacted.value(tokens.refreshToken!)).toBe("rt-1")
      expect(tokens.tokenType).toBe("bearer")
      expect(tokens.expiresAt).toEqual(new Date(NOW + 3600 * 1000))
      expect(tokens.scopes).toEqual(["read", "write"])
      expect(tokens.extra).toEqual({})
    }),
  )

  it.effect("fails slack's 200 ok:false as a provider error", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        "slack",
        jsonResponse(200, { ok: false, error: "invalid_code" }),
      )
      expect(error.reason).toBe("provider_error")
      expect(error.error).toBe("invalid_code")
      expect(error.status).toBe(200)
      expect(error.code).toBe("provider_error")
      expect(error.retryable).toBe(false)
      expect(error.invalidGrant).toBe(false)
    }),
  )

  it.effect("takes slack's user token from authed_user with comma scopes", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        "slack-user",
        jsonResponse(200, {
          ok: true,
          app_id: "A0KRD7HC3",
          authed_user: {
            id: "U1234",
            scope: "chat:write,channels:history",
            access_token: "xoxp-1234",
            token_type: "user",
          },
          team: { id: "T9TK3CUKW", name: "Slack Softwares" },
          enterprise: null,
          is_enterprise_install: false,
        }),
      )
      expect(Redacted.value(tokens.accessToken)).toBe("xoxp-1234")
      expect(tokens.scopes).toEqual(["chat:write", "channels:history"])
      expect(tokens.tokenType).toBe("user")
      expect(tokens.refreshToken).toBeUndefined()
      expect(tokens.expiresAt).toBeUndefined()
      expect(tokens.extra["team.id"]).toBe("T9TK3CUKW")
      expect(tokens.extra["authed_user.id"]).toBe("U1234")
      expect(tokens.extra["enterprise.id"]).toBeUndefined()
    }),
  )

  it.effect("takes slack's bot token with its bot token type", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        "slack",
        jsonResponse(200, {
          ok: true,
          access_token: "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
          token_type: "bot",
          scope: "commands,incoming-webhook",
          bot_user_id: "U0KRQLJ9H",
          team: { id: "T9TK3CUKW" },
        }),
      )
      expect(tokens.tokenType).toBe("bot")
      expect(tokens.scopes).toEqual(["commands", "incoming-webhook"])
      expect(tokens.extra.bot_user_id).toBe("U0KRQLJ9H")
    }),
  )

  it.effect("reads github's form-encoded response", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        "github",
        formResponse(
          200,
          "access_token=e72e16c7e42f292c6912e7710c838347ae178b4a&scope=user%2Cgist&token_type=bearer",
        ),
      )
      expect(Redacted.value(tokens.accessToken)).toBe("e72e16c7e42f292c6912e7710c838347ae178b4a")
      expect(tokens.scopes).toEqual(["user", "gist"])
      expect(tokens.tokenType).toBe("bearer")
      expect(tokens.expiresAt).toBeUndefined()
    }),
  )

  it.effect("fails github's 200 form error", () =>
    Effect.gen(function* () {
      const body =
        "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired." +
        "&error_uri=https%3A%2F%2Fdocs.github.com%2Fapps%2Ftroubleshooting"
      const error = yield* failWith("github", formResponse(200, body))
      expect(error.reason).toBe("provider_error")
      expect(error.error).toBe("bad_verification_code")
      expect(error.errorDescription).toBe("The code passed is incorrect or expired.")
      expect(error.errorUri).toBe("https://docs.github.com/apps/troubleshooting")
      expect(error.status).toBe(200)
    }),
  )

  it.effect("reads a form body labelled text/plain", () =>
    Effect.gen(function* () {
      const response = {
        status: 200,
        contentType: "text/plain; charset=utf-8",
        body: "access_token=abc&token_type=bearer",
      }
      const tokens = yield* parseWith("github", response)
      expect(Redacted.value(tokens.accessToken)).toBe("abc")
    }),
  )

  it.effect("accepts google's response without a refresh token", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const tokens = yield* parseWith(
        "google",
        jsonResponse(200, { access_token: "ya29.x", expires_in: 3599, token_type: "Bearer" }),
      )
      expect(Redacted.value(tokens.accessToken)).toBe("ya29.x")
      expect(tokens.refreshToken).toBeUndefined()
      expect(tokens.expiresAt).toEqual(new Date(NOW + 3599 * 1000))
      expect(tokens.scopes).toEqual(["requested"])
    }),
  )

  it.effect("marks microsoft's invalid_grant as a dead grant", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        "microsoft",
        jsonResponse(400, {
          error: "invalid_grant",
          error_description: "AADSTS700082: The refresh token has expired due to inactivity.",
          error_codes: [700082],
          timestamp: "2025-03-01 12:00:00Z",
          trace_id: "0d4b7f5e-1f6a-4b0c-9d0e-6f2b5e0f1a00",
        }),
      )
      expect(error.reason).toBe("provider_error")
      expect(error.invalidGrant).toBe(true)
      expect(error.retryable).toBe(false)
      expect(error.code).toBe("invalid_grant")
      expect(error.errorCodes).toEqual(["700082"])
      expect(error.errorDescription).toContain("AADSTS700082")
      expect(error.status).toBe(400)
    }),
  )

  it.effect("keeps salesforce's instance_url", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        "salesforce",
        jsonResponse(200, {
          access_token: "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog",
          refresh_token: "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrdBh",
          instance_url: "https://yourInstance.salesforce.com",
          id: "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
          token_type: "Bearer",
          issued_at: "1278448832702",
        }),
      )
      expect(tokens.extra).toEqual({
        instance_url: "https://yourInstance.salesforce.com",
        id: "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
      })
      expect(tokens.expiresAt).toBeUndefined()
    }),
  )
})

describe("expires_in", () => {
  const withExpiresIn = (expiresIn: unknown) =>
    jsonResponse(200, { access_token: "at", token_type: "bearer", expires_in: expiresIn })

  it.effect("accepts a number or a string of digits", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const fromNumber = yield* parseWith(generic, withExpiresIn(3600))
      const fromString = yield* parseWith(generic, withExpiresIn("3600"))
      const fromZero = yield* parseWith(generic, withExpiresIn(0))
      expect(fromNumber.expiresAt).toEqual(new Date(NOW + 3_600_000))
      expect(fromString.expiresAt).toEqual(new Date(NOW + 3_600_000))
      expect(fromZero.expiresAt).toEqual(new Date(NOW))
    }),
  )

  it.effect("means no expiry when absent or null", () =>
    Effect.gen(function* () {
      const absent = yield* parseWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer" }),
      )
      const fromNull = yield* parseWith(generic, withExpiresIn(null))
      expect(absent.expiresAt).toBeUndefined()
      expect(fromNull.expiresAt).toBeUndefined()
    }),
  )

  it.effect("rejects negative, fractional and junk values", () =>
    Effect.gen(function* () {
      for (const value of [-1, 3.5, "-1", "3600s", "", " 3600", "1e3", true, { seconds: 1 }]) {
        const error = yield* failWith(generic, withExpiresIn(value))
        expect(error.reason, String(value)).toBe("invalid_response")
        expect(error.field, String(value)).toBe("expires_in")
      }
    }),
  )

  it.effect("rejects a number too large to be exact", () =>
    Effect.gen(function* () {
      const body = '{"access_token":"at","token_type":"bearer","expires_in":1e400}'
      const error = yield* failWith(generic, { status: 200, contentType: "application/json", body })
      expect(error.field).toBe("expires_in")
    }),
  )

  it.effect("reads a digit string from a form body", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const tokens = yield* parseWith(
        generic,
        formResponse(200, "access_token=at&token_type=bearer&expires_in=28800"),
      )
      expect(tokens.expiresAt).toEqual(new Date(NOW + 28_800_000))
    }),
  )
})

describe("response validation", () => {
  it.effect("names the missing access token", () =>
    Effect.gen(function* () {
      for (const token of [undefined, "", 12345, null]) {
        const error = yield* failWith(
          generic,
          jsonResponse(200, { access_token: token, token_type: "bearer" }),
        )
        expect(error.reason).toBe("invalid_response")
        expect(error.field).toBe("access_token")
        expect(error.code).toBe("invalid_token_response")
        expect(error.retryable).toBe(false)
      }
    }),
  )

  it.effect("compares the token type case-insensitively", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "BEARER" }),
      )
      expect(tokens.tokenType).toBe("bearer")
      const mac = yield* failWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "mac" }),
      )
      expect(mac.field).toBe("token_type")
    }),
  )

  it.effect("requires a token type unless the template omits it", () =>
    Effect.gen(function* () {
      const missing = yield* failWith(generic, jsonResponse(200, { access_token: "at" }))
      expect(missing.field).toBe("token_type")
      const shopify = yield* clientFor("shopify", {}, { shop: "demo.myshopify.com" })
      const response = jsonResponse(200, {
        access_token: "shpat_1",
        scope: "write_orders,read_customers",
      })
      const tokens = yield* parseTokenResponse(shopify, response)
      expect(tokens.tokenType).toBe("bearer")
      expect(tokens.scopes).toEqual(["write_orders", "read_customers"])
    }),
  )

  it.effect("treats an empty refresh token as absent and rejects other types", () =>
    Effect.gen(function* () {
      const empty = yield* parseWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer", refresh_token: "" }),
      )
      expect(empty.refreshToken).toBeUndefined()
      const numeric = yield* failWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer", refresh_token: 42 }),
      )
      expect(numeric.field).toBe("refresh_token")
    }),
  )

  it.effect("accepts a scope list and rejects other scope types", () =>
    Effect.gen(function* () {
      const list = yield* parseWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer", scope: ["a", "b", "a"] }),
      )
      expect(list.scopes).toEqual(["a", "b"])
      const numeric = yield* failWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer", scope: 7 }),
      )
      expect(numeric.field).toBe("scope")
    }),
  )

  it.effect("rejects a success body that is not JSON or a form", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<ProviderResponse> = [
        { status: 200, contentType: "text/html", body: "<html>login</html>" },
        { status: 200, contentType: "application/json", body: "{not json" },
        { status: 200, contentType: "application/json", body: "[1,2]" },
        { status: 200, contentType: undefined, body: "" },
      ]
      for (const response of cases) {
        const error = yield* failWith(generic, response)
        expect(error.reason, response.body).toBe("invalid_response")
        expect(error.field, response.body).toBe("body")
      }
    }),
  )
})

describe("error statuses", () => {
  it.effect("retries a 5xx without an OAuth error", () =>
    Effect.gen(function* () {
      const error = yield* failWith(generic, {
        status: 502,
        contentType: "text/html",
        body: "<h1>Bad gateway</h1>",
      })
      expect(error.reason).toBe("http_status")
      expect(error.status).toBe(502)
      expect(error.code).toBe("token_endpoint_http_error")
      expect(error.retryable).toBe(true)
    }),
  )

  it.effect("retries a 429 and reads Retry-After", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        generic,
        jsonResponse(429, { message: "slow down" }, { retryAfter: "30" }),
      )
      expect(error.reason).toBe("http_status")
      expect(error.retryable).toBe(true)
      expect(error.retryAfterSeconds).toBe(30)
    }),
  )

  it.effect("retries a provider error sent with 503", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        generic,
        jsonResponse(503, { error: "temporarily_unavailable" }),
      )
      expect(error.reason).toBe("provider_error")
      expect(error.retryable).toBe(true)
    }),
  )

  it.effect("does not retry a client error", () =>
    Effect.gen(function* () {
      const invalidClient = yield* failWith(generic, jsonResponse(401, { error: "invalid_client" }))
      expect(invalidClient.error).toBe("invalid_client")
      expect(invalidClient.retryable).toBe(false)
      const notFound = yield* failWith(generic, {
        status: 404,
        contentType: "text/plain",
        body: "",
      })
      expect(notFound.reason).toBe("http_status")
      expect(notFound.retryable).toBe(false)
    }),
  )

  it.effect("fails an error field whatever the status", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        generic,
        jsonResponse(200, { access_token: "at", token_type: "bearer", error: "invalid_scope" }),
      )
      expect(error.reason).toBe("provider_error")
      expect(error.error).toBe("invalid_scope")
    }),
  )

  it("retries a request that got no response", () => {
    const error = TokenEndpointError.network(new Error("connect ECONNREFUSED 127.0.0.1:9"))
    expect(error.retryable).toBe(true)
    expect(error.code).toBe("token_endpoint_unreachable")
    expect(error.status).toBeUndefined()
  })

  it.effect("cleans control characters from provider text", () =>
    Effect.gen(function* () {
      const error = yield* failWith(
        generic,
        jsonResponse(400, {
          error: "invalid_request",
          error_description: `line one\nline two ${"x".repeat(600)}`,
        }),
      )
      expect(error.errorDescription).not.toContain("\n")
      expect(error.errorDescription!.length).toBeLessThanOrEqual(503)
      expect(error.message).not.toContain("\n")
    }),
  )
})

describe("secrets in errors", () => {
  const ACCESS = "at-SECRET-9f8e7d6c5b4a"
  const REFRESH = "rt-SECRET-0a1b2c3d4e5f"

  it.effect("never shows a token in an error", () =>
    Effect.gen(function* () {
      const responses: ReadonlyArray<ProviderResponse> = [
        jsonResponse(200, { access_token: ACCESS, token_type: REFRESH }),
        jsonResponse(200, { access_token: ACCESS, token_type: "bearer", expires_in: REFRESH }),
        jsonResponse(200, {
          access_token: ACCESS,
          token_type: "bearer",
          refresh_token: { value: REFRESH },
        }),
        jsonResponse(200, {
          access_token: ACCESS,
          token_type: "bearer",
          scope: { token: REFRESH },
        }),
        jsonResponse(200, { access_token: { nested: ACCESS }, token_type: "bearer" }),
        jsonResponse(400, { error: "invalid_grant", access_token: ACCESS, refresh_token: REFRESH }),
        jsonResponse(500, { access_token: ACCESS, refresh_token: REFRESH }),
        { status: 200, contentType: "text/html", body: `<p>${ACCESS}</p>` },
        formResponse(200, `access_token=${ACCESS}&token_type=mac&refresh_token=${REFRESH}`),
      ]
      for (const response of responses) {
        const error = yield* failWith(generic, response)
        const printed = [error.message, String(error), JSON.stringify(error)].join(" ")
        expect(printed, response.body).not.toContain(ACCESS)
        expect(printed, response.body).not.toContain(REFRESH)
      }
    }),
  )

  it.effect("hides tokens when a token set is printed", () =>
    Effect.gen(function* () {
      const tokens = yield* parseWith(
        generic,
        jsonResponse(200, { access_token: ACCESS, token_type: "bearer", refresh_token: REFRESH }),
      )
      const printed = [
        JSON.stringify(tokens),
        String(tokens.accessToken),
        String(tokens.refreshToken),
      ].join(" ")
      expect(printed).not.toContain(ACCESS)
      expect(printed).not.toContain(REFRESH)
    }),
  )
})
