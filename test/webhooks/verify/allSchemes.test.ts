import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { exportJWK, generateKeyPair } from "jose"
import { webhookSchemeNames } from "../../../src/webhooks/verify/Scheme.ts"
import { validateSchemeConfig } from "../../../src/webhooks/verify/SchemeConfig.ts"
import {
  prepareWebhookVerifier,
  webhookVerifiers,
} from "../../../src/webhooks/verify/WebhookVerifiers.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const now = 1_700_000_000
const secretValue = "whsec_c3VwZXItc2VjcmV0LXZhbHVlLTQy"
const channelToken = "channel-token-value-42"
const { publicKey } = await generateKeyPair("RS256", { extractable: true })

const optionsByScheme: Record<string, unknown> = {
  google: { channels: [{ id: "ch1", token: Redacted.make(channelToken) }] },
  "google-pubsub": {
    audience: "https://hooks.example.com",
    email: "push@p.iam.gserviceaccount.com",
    jwks: { keys: [await exportJWK(publicKey)] },
  },
  "generic-hmac": { signatureHeader: "X-Signature", algorithm: "sha256", encoding: "hex" },
}

/** The header each scheme reports first when a request carries none. */
const firstRequiredHeader: Record<string, string> = {
  slack: "x-slack-signature",
  github: "x-hub-signature-256",
  stripe: "stripe-signature",
  "standard-webhooks": "webhook-id",
  shopify: "x-shopify-hmac-sha256",
  zoom: "x-zm-signature",
  google: "x-goog-channel-id",
  "google-pubsub": "authorization",
  "generic-hmac": "x-signature",
}

/** Headers that are present and well-formed but carry a forged signature or token. */
const forgedHeaders: Record<string, Record<string, string>> = {
  slack: { "X-Slack-Signature": `v0=${"0".repeat(64)}`, "X-Slack-Request-Timestamp": `${now}` },
  github: { "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` },
  stripe: { "Stripe-Signature": `t=${now},v1=${"0".repeat(64)}` },
  "standard-webhooks": {
    "webhook-id": "msg_1",
    "webhook-timestamp": `${now}`,
    "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}`,
  },
  shopify: { "X-Shopify-Hmac-Sha256": Buffer.alloc(32).toString("base64") },
  zoom: { "x-zm-signature": `v0=${"0".repeat(64)}`, "x-zm-request-timestamp": `${now}` },
  google: {
    "X-Goog-Channel-ID": "ch1",
    "X-Goog-Channel-Token": "forged",
    "X-Goog-Resource-State": "exists",
    "X-Goog-Message-Number": "2",
  },
  "google-pubsub": { Authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl" },
  "generic-hmac": { "X-Signature": "0".repeat(64) },
}

const preparedFor = (scheme: (typeof webhookSchemeNames)[number]) =>
  validateSchemeConfig(scheme, optionsByScheme[scheme] ?? {}, [Redacted.make(secretValue)]).pipe(
    Effect.map(prepareWebhookVerifier),
  )

describe("every webhook scheme", () => {
  it("has a verifier registered under its name", () => {
    for (const scheme of webhookSchemeNames) {
      expect(webhookVerifiers[scheme].scheme).toBe(scheme)
    }
  })

  it.effect("rejects missing headers with 400", () =>
    Effect.gen(function* () {
      for (const scheme of webhookSchemeNames) {
        const verify = yield* preparedFor(scheme)
        const error = yield* Effect.flip(verify(makeRequest({}, "{}", now)))

        expect(error.code, scheme).toBe("missing_header")
        expect(error.httpStatus, scheme).toBe(400)
        expect(error.header, scheme).toBe(firstRequiredHeader[scheme])
      }
    }),
  )

  it.effect("rejects forgeries with 401 without secrets", () =>
    Effect.gen(function* () {
      for (const scheme of webhookSchemeNames) {
        const verify = yield* preparedFor(scheme)
        const error = yield* Effect.flip(verify(makeRequest(forgedHeaders[scheme]!, "{}", now)))

        expect(error.httpStatus, scheme).toBe(401)
        expectNoLeak(error, [secretValue, secretValue.slice(6), channelToken, "forged"])
      }
    }),
  )
})
