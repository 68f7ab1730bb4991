import { oauthTemplate, type Template } from "../Template.ts"

/**
 * Any authorization server that follows RFC 6749. The provider configuration
 * must supply `authorization_url` and `token_url`, and may supply
 * `revocation_url` for an RFC 7009 endpoint.
 */
export const oauth2: Template = {
  key: "oauth2",
  displayName: "OAuth 2.0",
  oauth: oauthTemplate({}),
  webhook: undefined,
}
