import { DAY_SECONDS, oauthTemplate, standardRevocation, type Template } from "../Template.ts"

/**
 * Google accounts. Google returns a refresh token only with
 * `access_type=offline`, and again on a later consent only with
 * `prompt=consent`. A refresh token unused for six months stops working
 * (Google Identity, "Refresh token expiration"), hence the monthly refresh.
 */
export const google: Template = {
  key: "google",
  displayName: "Google",
  oauth: oauthTemplate({
    authorizationUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    clientAuthentication: "client_secret_post",
    defaultScopes: ["openid", "email"],
    extraAuthorizationParams: { access_type: "offline", prompt: "consent" },
    keepAliveRefreshSeconds: 30 * DAY_SECONDS,
    revocation: {
      ...standardRevocation("https://oauth2.googleapis.com/revoke"),
      tokenTypeHint: false,
      authMethod: "none",
    },
  }),
  webhook: {
    scheme: "google",
    routingKey: { in: "header", name: "x-goog-channel-id" },
    eventId: undefined,
    maxBodyBytes: 1024 * 1024,
    toleranceSeconds: undefined,
    signature: undefined,
  },
}
