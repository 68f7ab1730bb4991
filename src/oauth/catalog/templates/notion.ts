import { oauthTemplate, type Template, webhookDefaults } from "../Template.ts"

/**
 * Notion public integrations. The token endpoint takes a JSON body with
 * HTTP Basic client authentication, returns no `expires_in` and no scope,
 * and describes the workspace in extra fields.
 */
export const notion: Template = {
  key: "notion",
  displayName: "Notion",
  oauth: oauthTemplate({
    authorizationUrl: "https://api.notion.com/v1/oauth/authorize",
    tokenUrl: "https://api.notion.com/v1/oauth/token",
    clientAuthentication: "client_secret_basic",
    tokenRequestEncoding: "json",
    pkce: false,
    extraAuthorizationParams: { owner: "user" },
    extraFieldsToKeep: ["bot_id", "workspace_id", "workspace_name", "owner.user.id"],
    refreshTokenRotates: true,
    tokenNeverExpires: true,
  }),
  webhook: {
    ...webhookDefaults("generic-hmac"),
    routingKey: { in: "body", name: "workspace_id" },
    eventId: { in: "body", name: "id" },
    signature: {
      header: "x-notion-signature",
      algorithm: "sha256",
      encoding: "hex",
      prefix: "sha256=",
    },
  },
}
