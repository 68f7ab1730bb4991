import { oauthTemplate, type Template, webhookDefaults } from "../Template.ts"

// Slack's `oauth.v2.access` returns HTTP 200 for failures with
// `{"ok": false, "error": "..."}`, and its `token_type` is `bot` or `user`.
// Without token rotation its tokens never expire.
const slackOAuth = oauthTemplate({
  authorizationUrl: "https://slack.com/oauth/v2/authorize",
  tokenUrl: "https://slack.com/api/oauth.v2.access",
  clientAuthentication: "client_secret_post",
  pkce: false,
  scopeSeparator: ",",
  acceptedTokenTypes: ["bot"],
  extraFieldsToKeep: [
    "app_id",
    "bot_user_id",
    "team.id",
    "team.name",
    "enterprise.id",
    "is_enterprise_install",
    "authed_user.id",
  ],
  errorInSuccessBody: { field: "ok", equals: false, errorPath: "error" },
  tokenNeverExpires: true,
  revocation: {
    url: "https://slack.com/api/auth.revoke",
    method: "POST",
    token: { in: "form", parameter: "token" },
    tokenTypeHint: false,
    authMethod: "none",
    revocableTokens: ["access_token"],
    alreadyRevokedStatuses: [],
    alreadyRevokedErrors: ["invalid_auth", "token_revoked", "not_authed", "account_inactive"],
    headers: {},
  },
})

const slackWebhook = {
  ...webhookDefaults("slack"),
  routingKey: { in: "body", name: "team_id" },
  eventId: { in: "body", name: "event_id" },
  toleranceSeconds: 300,
} as const

/** A Slack app installed into a workspace, holding the bot token. */
export const slack: Template = {
  key: "slack",
  displayName: "Slack",
  oauth: slackOAuth,
  webhook: slackWebhook,
}

/**
 * A Slack app acting as the installing user. Slack requests user scopes in
 * `user_scope` and returns the user token under `authed_user`.
 */
export const slackUser: Template = {
  key: "slack-user",
  displayName: "Slack (user token)",
  oauth: {
    ...slackOAuth,
    scopeParameter: "user_scope",
    tokenPath: "authed_user.access_token",
    refreshTokenPath: "authed_user.refresh_token",
    expiresInPath: "authed_user.expires_in",
    scopePath: "authed_user.scope",
    tokenTypePath: "authed_user.token_type",
    acceptedTokenTypes: ["user"],
  },
  webhook: slackWebhook,
}
