import { DAY_SECONDS, oauthTemplate, type Template } from "../Template.ts"

/**
 * Microsoft identity platform (v2.0 endpoints). The tenant comes from the
 * connect session's `tenant` metadata: a tenant id, a domain, or `common`,
 * `organizations` or `consumers`. A refresh token is issued only for the
 * `offline_access` scope, is replaced on each use, and expires after 90 days
 * without use (Microsoft identity platform, "Refresh tokens").
 */
export const microsoft: Template = {
  key: "microsoft",
  displayName: "Microsoft",
  oauth: oauthTemplate({
    authorizationUrl: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    tokenUrl: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    urlParameters: {
      tenant: {
        metadataKey: "tenant",
        pattern: "[A-Za-z0-9][A-Za-z0-9.-]{0,252}",
        default: "common",
      },
    },
    clientAuthentication: "client_secret_post",
    requiredScopes: ["offline_access"],
    defaultScopes: ["openid", "profile", "User.Read"],
    refreshTokenRotates: true,
    keepAliveRefreshSeconds: 30 * DAY_SECONDS,
    // NOTE: the identity platform has no RFC 7009 endpoint, so disconnecting
    // deletes the tokens without revoking them at Microsoft.
    revocation: undefined,
  }),
  webhook: undefined,
}
