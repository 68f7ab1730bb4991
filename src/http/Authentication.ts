/**
 * Bearer authentication for every `/v1` route, and the `ApiErrors`
 * middleware that declares the API's error responses once, so any handler
 * may fail with them and the OpenAPI document lists them.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import { ApiKeys } from "../auth/ApiKeys.ts"
import { CurrentPrincipal } from "../auth/Principal.ts"
import { ApiErrorSchemas, apiError, ServiceUnavailable, Unauthorized } from "./ApiErrors.ts"

/**
 * Declares the error responses. Its implementation (in HttpApp.ts) renders
 * request decoding failures in the same error format.
 */
export class ApiErrors extends HttpApiMiddleware.Service<ApiErrors>()("app/ApiErrors", {
  error: ApiErrorSchemas,
}) {}

export class Authentication extends HttpApiMiddleware.Service<
  Authentication,
  { provides: CurrentPrincipal }
>()("app/Authentication", {
  error: [Unauthorized, ServiceUnavailable],
  security: { bearer: HttpApiSecurity.bearer },
}) {}

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function* () {
    const apiKeys = yield* ApiKeys
    return Authentication.of({
      bearer: (httpEffect, { credential }) =>
        Effect.gen(function* () {
          if (Redacted.value(credential) === "") {
            return yield* Effect.fail(
              apiError(401, "missing_api_key", "Send the API key as Authorization: Bearer <key>."),
            )
          }
          const principal = yield* apiKeys
            .authenticate(credential)
            .pipe(
              Effect.catchTag("SqlError", (error) =>
                Effect.logError("API key lookup failed", error).pipe(
                  Effect.andThen(
                    Effect.fail(
                      apiError(
                        503,
                        "store_unavailable",
                        "The key store did not respond; retry later.",
                      ),
                    ),
                  ),
                ),
              ),
            )
          if (Option.isNone(principal)) {
            return yield* Effect.fail(
              apiError(401, "invalid_api_key", "The API key is unknown or revoked."),
            )
          }
          return yield* Effect.provideService(httpEffect, CurrentPrincipal, principal.value)
        }),
    })
  }),
)
