import {
  DAY_SECONDS,
  oauthTemplate,
  standardRevocation,
  type Template,
  webhookDefaults,
} from "../Template.ts"

/**
 * Zoom. The token endpoint takes HTTP Basic client authentication, refresh
 * tokens rotate, and a refresh token expires 90 days after it is issued, so
 * an idle integration is refreshed monthly.
 */
export const zoom: Template = {
  key: "zoom",
  displayName: "Zoom",
  oauth: oauthTemplate({
    authorizationUrl: "https://zoom.us/oauth/authorize",
    tokenUrl: "https://zoom.us/oauth/token",
    clientAuthentication: "client_secret_basic",
    refreshTokenRotates: true,
    keepAliveRefreshSeconds: 30 * DAY_SECONDS,
    revocation: {
      ...standardRevocation("https://zoom.us/oauth/revoke"),
      tokenTypeHint: false,
      revocableTokens: ["access_token"],
    },
  }),
  webhook: {
    ...webhookDefaults("zoom"),
    routingKey: { in: "body", name: "payload.account_id" },
    toleranceSeconds: 300,
  },
}
