/**
 * Signs test deliveries the way each provider does. Where a provider ships a
 * library (Stripe, Octokit, Standard Webhooks) the library signs; Slack,
 * Shopify and Zoom publish only the algorithm, implemented here.
 */
import { createHmac } from "node:crypto"
import { sign as octokitSign } from "@octokit/webhooks-methods"
import { Webhook } from "standardwebhooks"
import Stripe from "stripe"

const stripe = new Stripe("sk_test_unused")

export const nowSeconds = () => Math.floor(Date.now() / 1000)

export const slackHeaders = (secret: string, timestamp: number | string, body: string) => ({
  "content-type": "application/json",
  "x-slack-request-timestamp": String(timestamp),
  "x-slack-signature": `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`,
})

export const zoomHeaders = (secret: string, timestamp: number, body: string) => ({
  "content-type": "application/json",
  "x-zm-request-timestamp": String(timestamp),
  "x-zm-signature": `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`,
})

export const shopifyHeaders = (secret: string, body: string, webhookId: string) => ({
  "content-type": "application/json",
  "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
  "x-shopify-webhook-id": webhookId,
  "x-shopify-topic": "orders/create",
  "x-shopify-shop-domain": "shop.myshopify.com",
})

export const githubHeaders = async (
  secret: string,
  body: string,
  event = "push",
  delivery: string = crypto.randomUUID(),
) => ({
  "content-type": "application/json",
  "x-github-event": event,
  "x-github-delivery": delivery,
  "x-hub-signature-256": await octokitSign(secret, body),
})

export const stripeHeaders = (secret: string, body: string, timestamp: number = nowSeconds()) => ({
  "content-type": "application/json",
  "stripe-signature": stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp,
  }),
})

export const standardHeaders = (
  secret: string,
  body: string,
  id: string = `msg_${crypto.randomUUID()}`,
  timestamp: number = nowSeconds(),
) => ({
  "content-type": "application/json",
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
})
