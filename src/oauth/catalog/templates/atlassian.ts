import { DAY_SECONDS, oauthTemplate, type Template } from "../Template.ts"

/**
 * Atlassian Cloud (OAuth 2.0 3LO). The authorization request needs
 * `audience=api.atlassian.com`, and a refresh token needs the
 * `offline_access` scope. Refresh tokens rotate and expire after 90 days
 * without use (Atlassian developer docs, "Use a refresh token").
 */
export const atlassian: Template = {
  key: "atlassian",
  displayName: "Atlassian",
  oauth: oauthTemplate({
    authorizationUrl: "https://auth.atlassian.com/authorize",
    tokenUrl: "https://auth.atlassian.com/oauth/token",
    clientAuthentication: "client_secret_post",
    tokenRequestEncoding: "json",
    pkce: false,
    requiredScopes: ["offline_access"],
    defaultScopes: ["read:me"],
    extraAuthorizationParams: { audience: "api.atlassian.com", prompt: "consent" },
    refreshTokenRotates: true,
    keepAliveRefreshSeconds: 30 * DAY_SECONDS,
  }),
  webhook: undefined,
}
