import { oauthTemplate, type Template } from "../Template.ts"

/** HubSpot apps. Access tokens last 30 minutes and refresh tokens do not rotate. */
export const hubspot: Template = {
  key: "hubspot",
  displayName: "HubSpot",
  oauth: oauthTemplate({
    authorizationUrl: "https://app.hubspot.com/oauth/authorize",
    tokenUrl: "https://api.hubapi.com/oauth/v1/token",
    clientAuthentication: "client_secret_post",
    pkce: false,
    defaultScopes: ["oauth"],
    // NOTE: HubSpot revokes with `DELETE /oauth/v1/refresh-tokens/{token}`,
    // which puts the token in the URL path where request logs would record
    // it, so this template does not revoke.
    revocation: undefined,
  }),
  webhook: undefined,
}
