import { oauthTemplate, standardRevocation, type Template, webhookDefaults } from "../Template.ts"

/** Linear. Scopes are comma-separated, and refresh tokens rotate. */
export const linear: Template = {
  key: "linear",
  displayName: "Linear",
  oauth: oauthTemplate({
    authorizationUrl: "https://linear.app/oauth/authorize",
    tokenUrl: "https://api.linear.app/oauth/token",
    clientAuthentication: "client_secret_post",
    scopeSeparator: ",",
    defaultScopes: ["read"],
    refreshTokenRotates: true,
    revocation: {
      ...standardRevocation("https://api.linear.app/oauth/revoke"),
      authMethod: "client_secret_post",
    },
  }),
  webhook: {
    ...webhookDefaults("generic-hmac"),
    routingKey: { in: "body", name: "organizationId" },
    eventId: { in: "header", name: "linear-delivery" },
    signature: { header: "linear-signature", algorithm: "sha256", encoding: "hex", prefix: "" },
  },
}
