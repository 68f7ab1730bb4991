import { createHmac } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { ShopifyVerifier } from "../../../src/webhooks/verify/Shopify.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const now = 1_700_000_000
const config = { secrets: [Redacted.make("shop-secret")], options: {} }

const shopifyRequest = (signature: string, body = '{"id":1}') =>
  makeRequest(
    {
      "X-Shopify-Hmac-Sha256": signature,
      "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "X-Shopify-Shop-Domain": "example.myshopify.com",
      "X-Shopify-Topic": "orders/create",
    },
    body,
    now,
  )

const base64Hmac = (key: string, body: string) =>
  createHmac("sha256", key).update(body).digest("base64")

describe("Shopify webhook signatures", () => {
  it.effect("verifies a base64 digest and rejects the same digest in hex", () =>
    Effect.gen(function* () {
      const signature = "plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0="
      const delivery = yield* ShopifyVerifier.verify(shopifyRequest(signature), config)

      expect(delivery.deliveryId).toBe("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
      expect(delivery.routingKey).toBe("example.myshopify.com")
      expect(delivery.eventType).toBe("orders/create")

      const hex = Buffer.from(signature, "base64").toString("hex")
      const error = yield* Effect.flip(ShopifyVerifier.verify(shopifyRequest(hex), config))
      expect(error.code).toBe("signature_mismatch")
      expect(error.header).toBe("x-shopify-hmac-sha256")
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const rotating = {
        secrets: [Redacted.make("shop-old"), Redacted.make("shop-new")],
        options: {},
      }
      for (const key of ["shop-old", "shop-new"]) {
        yield* ShopifyVerifier.verify(shopifyRequest(base64Hmac(key, '{"id":1}')), rotating)
      }

      const error = yield* Effect.flip(
        ShopifyVerifier.verify(shopifyRequest(base64Hmac("shop-other", '{"id":1}')), rotating),
      )
      expectNoLeak(error, ["shop-old", "shop-new"])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const valid = base64Hmac("shop-secret", '{"id":1}')
      // This body's digest contains both "+" and "/", so its base64url form differs.
      const body = '{"id":7}'
      const urlSafe = base64Hmac("shop-secret", body).replaceAll("+", "-").replaceAll("/", "_")
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["garbage", "signature_mismatch"],
        ["", "malformed_header"],
        [valid.slice(0, -2), "signature_mismatch"],
        [`${valid}AAAA`, "signature_mismatch"],
        ["A".repeat(9000), "malformed_header"],
      ]
      for (const [signature, reason] of cases) {
        const error = yield* Effect.flip(ShopifyVerifier.verify(shopifyRequest(signature), config))
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }

      const error = yield* Effect.flip(
        ShopifyVerifier.verify(shopifyRequest(urlSafe, body), config),
      )
      expect(error.reason).toBe("signature_mismatch")
    }),
  )
})
