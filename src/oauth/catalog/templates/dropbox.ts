import { oauthTemplate, type Template, webhookDefaults } from "../Template.ts"

/**
 * Dropbox. A refresh token is issued only with `token_access_type=offline`.
 * Revocation takes the access token as the bearer credential and no body.
 */
export const dropbox: Template = {
  key: "dropbox",
  displayName: "Dropbox",
  oauth: oauthTemplate({
    authorizationUrl: "https://www.dropbox.com/oauth2/authorize",
    tokenUrl: "https://api.dropboxapi.com/oauth2/token",
    clientAuthentication: "client_secret_basic",
    extraAuthorizationParams: { token_access_type: "offline" },
    extraFieldsToKeep: ["account_id", "team_id", "uid"],
    revocation: {
      url: "https://api.dropboxapi.com/2/auth/token/revoke",
      method: "POST",
      token: { in: "header", name: "authorization", prefix: "Bearer " },
      tokenTypeHint: false,
      authMethod: "none",
      revocableTokens: ["access_token"],
      alreadyRevokedStatuses: [401],
      alreadyRevokedErrors: [],
      headers: {},
    },
  }),
  webhook: {
    ...webhookDefaults("generic-hmac"),
    signature: {
      header: "x-dropbox-signature",
      algorithm: "sha256",
      encoding: "hex",
      prefix: "",
    },
  },
}
