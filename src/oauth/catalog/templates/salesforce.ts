import { oauthTemplate, standardRevocation, type Template } from "../Template.ts"

/**
 * Salesforce. The token response has no `expires_in` because the session
 * timeout is an org setting, and it names the org's API host in
 * `instance_url`. A refresh token is issued only for the `refresh_token` scope.
 */
export const salesforce: Template = {
  key: "salesforce",
  displayName: "Salesforce",
  oauth: oauthTemplate({
    authorizationUrl: "https://login.salesforce.com/services/oauth2/authorize",
    tokenUrl: "https://login.salesforce.com/services/oauth2/token",
    clientAuthentication: "client_secret_post",
    requiredScopes: ["refresh_token"],
    defaultScopes: ["api"],
    extraFieldsToKeep: ["instance_url", "id"],
    revocation: {
      ...standardRevocation("https://login.salesforce.com/services/oauth2/revoke"),
      tokenTypeHint: false,
      authMethod: "none",
    },
  }),
  webhook: undefined,
}
