import { oauthTemplate, type Template, webhookDefaults } from "../Template.ts"

/**
 * Shopify apps. Every endpoint lives on the shop's own subdomain, taken from
 * the connect session's `shop` metadata. Offline access tokens do not
 * expire, and the token response carries no `token_type`. Revocation
 * uninstalls the app with the access token in a header.
 */
export const shopify: Template = {
  key: "shopify",
  displayName: "Shopify",
  oauth: oauthTemplate({
    authorizationUrl: "https://{shop}/admin/oauth/authorize",
    tokenUrl: "https://{shop}/admin/oauth/access_token",
    urlParameters: {
      shop: {
        metadataKey: "shop",
        pattern: "[a-z0-9][a-z0-9-]*\\.myshopify\\.com",
        default: undefined,
      },
    },
    clientAuthentication: "client_secret_post",
    pkce: false,
    scopeSeparator: ",",
    tokenTypeRequired: false,
    tokenNeverExpires: true,
    revocation: {
      url: "https://{shop}/admin/api_permissions/current.json",
      method: "DELETE",
      token: { in: "header", name: "x-shopify-access-token", prefix: "" },
      tokenTypeHint: false,
      authMethod: "none",
      revocableTokens: ["access_token"],
      // Shopify returns 401 for a token that is no longer valid.
      alreadyRevokedStatuses: [401],
      alreadyRevokedErrors: [],
      headers: {},
    },
  }),
  webhook: {
    ...webhookDefaults("shopify"),
    routingKey: { in: "header", name: "x-shopify-shop-domain" },
    eventId: { in: "header", name: "x-shopify-webhook-id" },
  },
}
