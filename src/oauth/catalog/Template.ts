/**
 * The shape of a catalog template: the defaults and quirks of one provider.
 * Each deviation from RFC 6749 is a typed field here, so the OAuth flow reads
 * fields and never branches on a provider's name.
 */

/**
 * Client authentication method at the token endpoint (RFC 6749 §2.3.1),
 * named as in RFC 7591 §2.
 */
export type ClientAuthentication = "client_secret_basic" | "client_secret_post" | "none"

/** Separator between scopes in the authorization request. RFC 6749 §3.3 uses a space. */
export type ScopeSeparator = " " | ","

/** Encoding of the token request body. RFC 6749 §4.1.3 uses the form encoding. */
export type RequestBodyEncoding = "form" | "json"

/** Webhook signature scheme, each with a verifier of the same name. */
export type WebhookScheme =
  | "slack"
  | "github"
  | "stripe"
  | "standard-webhooks"
  | "shopify"
  | "zoom"
  | "google"
  | "google-pubsub"
  | "generic-hmac"

export const webhookSchemes: ReadonlyArray<WebhookScheme> = [
  "slack",
  "github",
  "stripe",
  "standard-webhooks",
  "shopify",
  "zoom",
  "google",
  "google-pubsub",
  "generic-hmac",
]

/**
 * A placeholder such as `{shop}` in an endpoint URL, filled from the connect
 * session's metadata under `metadataKey`.
 */
export interface UrlParameter {
  readonly metadataKey: string
  /** Regular expression that the whole value must match. */
  readonly pattern: string
  /** Value used when the metadata has none. Without a default the key is required. */
  readonly default: string | undefined
}

/**
 * A token endpoint that reports failure inside a successful response, such as
 * Slack's `{"ok": false, "error": "invalid_code"}`.
 */
export interface ErrorInSuccessBody {
  /** Path of the field that signals the failure, such as `ok`. */
  readonly field: string
  /** Value of that field that means failure. */
  readonly equals: string | number | boolean
  /** Path of the provider's error code, such as `error`. */
  readonly errorPath: string
}

/**
 * Location of the token in a revocation request: a form or JSON body
 * parameter (RFC 7009 §2.1 uses the form parameter `token`), or a header.
 */
export type RevocationTokenLocation =
  | { readonly in: "form" | "json"; readonly parameter: string }
  | { readonly in: "header"; readonly name: string; readonly prefix: string }

export type RevocableToken = "access_token" | "refresh_token"

/** How to revoke a token at the provider, RFC 7009 or the provider's variant. */
export interface RevocationSettings {
  /** Endpoint URL, which may contain placeholders and `{client_id}`. */
  readonly url: string
  readonly method: "POST" | "DELETE"
  readonly token: RevocationTokenLocation
  /** Sends `token_type_hint` (RFC 7009 §2.1) with a form or JSON token. */
  readonly tokenTypeHint: boolean
  readonly authMethod: ClientAuthentication
  /** Kinds of token the endpoint revokes. Other kinds are left to expire. */
  readonly revocableTokens: ReadonlyArray<RevocableToken>
  /** Statuses that mean the token was already revoked or unknown. */
  readonly alreadyRevokedStatuses: ReadonlyArray<number>
  /** Provider error codes with the same meaning, such as `invalid_token` (RFC 7009 §2.2). */
  readonly alreadyRevokedErrors: ReadonlyArray<string>
  /** Extra non-secret request headers, such as an API version. */
  readonly headers: Readonly<Record<string, string>>
}

/** Every OAuth behaviour a template may set and a provider may override. */
export interface OAuthQuirks {
  readonly clientAuthentication: ClientAuthentication
  /** Sends a PKCE S256 challenge (RFC 7636) with every authorization request. */
  readonly pkce: boolean
  readonly scopeSeparator: ScopeSeparator
  /** Name of the authorization parameter carrying scopes, `user_scope` for Slack user tokens. */
  readonly scopeParameter: string
  /** Scopes added to every authorization request, whatever other scopes it names. */
  readonly requiredScopes: ReadonlyArray<string>
  /** Fixed authorization parameters, such as Google's `access_type=offline`. */
  readonly extraAuthorizationParams: Readonly<Record<string, string>>
  /** Placeholders allowed in the endpoint URLs, by name without braces. */
  readonly urlParameters: Readonly<Record<string, UrlParameter>>
  readonly tokenRequestEncoding: RequestBodyEncoding
  /** Sends `Accept: application/json`, without which GitHub responds form-encoded. */
  readonly sendAcceptJson: boolean
  /** Dot-separated path of the access token in the token response. */
  readonly tokenPath: string
  readonly refreshTokenPath: string
  readonly expiresInPath: string
  readonly scopePath: string
  readonly tokenTypePath: string
  /** Accepted `token_type` values, compared case-insensitively. */
  readonly acceptedTokenTypes: ReadonlyArray<string>
  /** Rejects a response without a token type, which RFC 6749 §5.1 requires. */
  readonly tokenTypeRequired: boolean
  /** Response paths kept with the credentials, such as `instance_url` or `team.id`. */
  readonly extraFieldsToKeep: ReadonlyArray<string>
  readonly errorInSuccessBody: ErrorInSuccessBody | undefined
  /** Each refresh returns a new refresh token and invalidates the old one. */
  readonly refreshTokenRotates: boolean
  /**
   * Interval in seconds at which to refresh even an unexpired token, for
   * providers whose refresh tokens expire after a period without use.
   */
  readonly keepAliveRefreshSeconds: number | undefined
  /** Access tokens do not expire, so a missing refresh token is expected. */
  readonly tokenNeverExpires: boolean
  readonly revocation: RevocationSettings | undefined
}

/** Location of a value in a webhook delivery: a request header or a body path. */
export interface DeliveryField {
  readonly in: "header" | "body"
  /** Lower-case header name, or a dot-separated JSON path. */
  readonly name: string
}

/** Signature settings of the `generic-hmac` scheme. */
export interface HmacSignature {
  /** Lower-case name of the header carrying the signature. */
  readonly header: string
  readonly algorithm: "sha1" | "sha256" | "sha512"
  readonly encoding: "hex" | "base64"
  /** Text before the signature in the header, such as `sha256=`. */
  readonly prefix: string
}

/** Verification, routing and deduplication settings for a provider's deliveries. */
export interface WebhookSettings {
  readonly scheme: WebhookScheme
  /** Hint for the field that names the provider account, to find the integration. */
  readonly routingKey: DeliveryField | undefined
  /** Field with the provider-given delivery or event id, used to deduplicate. */
  readonly eventId: DeliveryField | undefined
  readonly maxBodyBytes: number
  /** Maximum age of a signed timestamp, in seconds, for schemes that sign one. */
  readonly toleranceSeconds: number | undefined
  /** Required by the `generic-hmac` scheme and ignored by the others. */
  readonly signature: HmacSignature | undefined
}

/** The OAuth part of a template: endpoints, default scopes and quirks. */
export interface OAuthTemplate extends OAuthQuirks {
  /** Undefined when the user must supply the URL, as for the generic `oauth2` template. */
  readonly authorizationUrl: string | undefined
  readonly tokenUrl: string | undefined
  /** Scopes used when the provider configuration names none. */
  readonly defaultScopes: ReadonlyArray<string>
}

export interface Template {
  /** Catalog key, such as `google`. */
  readonly key: string
  readonly displayName: string
  /** Undefined for webhook-only templates. */
  readonly oauth: OAuthTemplate | undefined
  readonly webhook: WebhookSettings | undefined
}

/** Behaviour of a provider that follows RFC 6749, RFC 7009 and RFC 7636 exactly. */
export const standardQuirks: OAuthQuirks = {
  clientAuthentication: "client_secret_basic",
  pkce: true,
  scopeSeparator: " ",
  scopeParameter: "scope",
  requiredScopes: [],
  extraAuthorizationParams: {},
  urlParameters: {},
  tokenRequestEncoding: "form",
  sendAcceptJson: true,
  tokenPath: "access_token",
  refreshTokenPath: "refresh_token",
  expiresInPath: "expires_in",
  scopePath: "scope",
  tokenTypePath: "token_type",
  acceptedTokenTypes: ["bearer"],
  tokenTypeRequired: true,
  extraFieldsToKeep: [],
  errorInSuccessBody: undefined,
  refreshTokenRotates: false,
  keepAliveRefreshSeconds: undefined,
  tokenNeverExpires: false,
  revocation: undefined,
}

/** RFC 7009 defaults for a revocation endpoint at `url`. */
export const standardRevocation = (url: string): RevocationSettings => ({
  url,
  method: "POST",
  token: { in: "form", parameter: "token" },
  tokenTypeHint: true,
  authMethod: "client_secret_basic",
  revocableTokens: ["refresh_token", "access_token"],
  alreadyRevokedStatuses: [],
  alreadyRevokedErrors: ["invalid_token"],
  headers: {},
})

/** Webhook settings with no routing or id hints and a 1 MiB body limit. */
export const webhookDefaults = (scheme: WebhookScheme): WebhookSettings => ({
  scheme,
  routingKey: undefined,
  eventId: undefined,
  maxBodyBytes: 1024 * 1024,
  toleranceSeconds: undefined,
  signature: undefined,
})

export const DAY_SECONDS = 24 * 60 * 60

/** Builds an OAuth template from the standard behaviour and the fields that differ. */
export const oauthTemplate = (fields: Partial<OAuthTemplate>): OAuthTemplate => ({
  ...standardQuirks,
  authorizationUrl: undefined,
  tokenUrl: undefined,
  defaultScopes: [],
  ...fields,
})
