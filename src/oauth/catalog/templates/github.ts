import { oauthTemplate, type Template, webhookDefaults } from "../Template.ts"

/**
 * GitHub OAuth apps. The token endpoint responds form-encoded unless the
 * request accepts JSON, and it reports errors with HTTP 200. OAuth app
 * tokens do not expire, but GitHub App user tokens carry `expires_in` and a
 * refresh token. Revocation deletes the whole grant through the REST API.
 */
export const github: Template = {
  key: "github",
  displayName: "GitHub",
  oauth: oauthTemplate({
    authorizationUrl: "https://github.com/login/oauth/authorize",
    tokenUrl: "https://github.com/login/oauth/access_token",
    clientAuthentication: "client_secret_post",
    sendAcceptJson: true,
    defaultScopes: ["read:user"],
    tokenNeverExpires: true,
    revocation: {
      url: "https://api.github.com/applications/{client_id}/grant",
      method: "DELETE",
      token: { in: "json", parameter: "access_token" },
      tokenTypeHint: false,
      authMethod: "client_secret_basic",
      revocableTokens: ["access_token"],
      alreadyRevokedStatuses: [404],
      alreadyRevokedErrors: [],
      headers: { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" },
    },
  }),
  webhook: {
    ...webhookDefaults("github"),
    routingKey: { in: "body", name: "installation.id" },
    eventId: { in: "header", name: "x-github-delivery" },
    // GitHub does not send payloads above 25 MB.
    maxBodyBytes: 25 * 1024 * 1024,
  },
}
