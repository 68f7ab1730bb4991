/**
 * A token endpoint with rotating refresh tokens that each work once, as
 * providers with refresh token rotation behave: `RT_A` is exchanged for
 * `AT2` and `RT_B`, `RT_B` for `AT3` and `RT_C`, and any second use of a
 * refresh token gets `400 {"error":"invalid_grant"}`.
 */
import { type FakeProvider, jsonResponse } from "./FakeProvider.ts"

const NEXT: Readonly<
  Record<string, { readonly accessToken: string; readonly refreshToken: string }>
> = {
  RT_A: { accessToken: "AT2", refreshToken: "RT_B" },
  RT_B: { accessToken: "AT3", refreshToken: "RT_C" },
  RT_C: { accessToken: "AT4", refreshToken: "RT_D" },
}

/** Serves `/token`; the code exchange returns AT1 and RT_A expiring in `firstExpiresIn` seconds. */
export const rotatingProvider = (fake: FakeProvider, firstExpiresIn = 0) => {
  const used = new Set<string>()
  fake.on("/token", (request) => {
    if (request.params.get("grant_type") === "authorization_code") {
      return jsonResponse({
        access_token: "AT1",
        refresh_token: "RT_A",
        token_type: "Bearer",
        expires_in: firstExpiresIn,
      })
    }
    const token = request.params.get("refresh_token") ?? ""
    const next = NEXT[token]
    if (next === undefined || used.has(token)) return jsonResponse({ error: "invalid_grant" }, 400)
    used.add(token)
    return jsonResponse({
      access_token: next.accessToken,
      refresh_token: next.refreshToken,
      expires_in: 3600,
      token_type: "Bearer",
    })
  })
}

/** The refresh token grants the fake received. */
export const refreshRequests = (fake: FakeProvider) =>
  fake
    .requestsTo("/token")
    .filter((request) => request.params.get("grant_type") === "refresh_token")
