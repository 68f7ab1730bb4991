/**
 * Builds a `ProviderConfig` from a catalog template and the user's explicit
 * fields. Explicit fields and quirk overrides replace template defaults, and
 * every value is checked before the provider can be used.
 */
import { Effect, type Redacted } from "effect"
import { findTemplate, listTemplates } from "./Catalog.ts"
import {
  checkClientId,
  checkScopes,
  checkSecret,
  checkUrl,
  isRecord,
  nullsToUndefined,
  requireUrl,
} from "./InputChecks.ts"
import type { OAuthSettings, ProviderConfig } from "./ProviderConfig.ts"
import { ProviderConfigError } from "./ProviderConfig.ts"
import type { ProviderUrlRules } from "./ProviderUrl.ts"
import { findQuirkProblem, findRevocationProblem, quirkNames } from "./QuirkChecks.ts"
import { resolveWebhook } from "./resolveWebhook.ts"
import type {
  ClientAuthentication,
  OAuthQuirks,
  OAuthTemplate,
  RevocationSettings,
  Template,
  UrlParameter,
} from "./Template.ts"
import { standardRevocation } from "./Template.ts"

/** A provider as the user configures it, with the field names of the HTTP API. */
export interface ProviderInput {
  /** Catalog template key, such as `google` or `oauth2`. */
  readonly template: string
  readonly client_id?: string | undefined
  readonly client_secret?: Redacted.Redacted<string> | undefined
  /** Scopes as a list, or one string separated by spaces, commas or `+`. */
  readonly scopes?: string | ReadonlyArray<string> | undefined
  readonly authorization_url?: string | undefined
  readonly token_url?: string | undefined
  readonly revocation_url?: string | undefined
  readonly webhook_secret?: Redacted.Redacted<string> | undefined
  readonly destination_url?: string | undefined
  /**
   * Overrides of `OAuthQuirks` fields by name. `revocation` and `webhook` take
   * partial objects merged over the template's settings, or null to disable.
   */
  readonly quirks?: Readonly<Record<string, unknown>> | undefined
}

export interface ResolveProviderOptions {
  /** Accepts http URLs to loopback hosts, as `ProviderUrlRules` describes. */
  readonly allowHttpLoopback?: boolean | undefined
}

const OAUTH_FIELDS = [
  "client_id",
  "client_secret",
  "scopes",
  "authorization_url",
  "token_url",
  "revocation_url",
] as const

/** Merges a template with the user's fields into a checked provider configuration. */
export const resolveProvider = (
  input: ProviderInput,
  options: ResolveProviderOptions = {},
): Effect.Effect<ProviderConfig, ProviderConfigError> =>
  Effect.gen(function* () {
    const rules: ProviderUrlRules = { allowHttpLoopback: options.allowHttpLoopback === true }
    const template = findTemplate(input.template)
    if (template === undefined) {
      const known = listTemplates().map((t) => t.key)
      return yield* ProviderConfigError.unknownTemplate(input.template, known)
    }

    const quirks = input.quirks ?? {}
    if (!isRecord(quirks)) {
      return yield* ProviderConfigError.invalid("quirks", quirks, "must be an object")
    }
    const { webhook: webhookOverride, ...oauthOverrides } = quirks

    // A template with both parts configured without any OAuth field is a
    // webhook sender only, such as a GitHub App that only delivers webhooks.
    const webhookOnly =
      template.webhook !== undefined && OAUTH_FIELDS.every((field) => input[field] === undefined)
    const oauth =
      template.oauth === undefined
        ? yield* rejectOAuthFields(template, input, oauthOverrides)
        : webhookOnly
          ? undefined
          : yield* resolveOAuth(template.key, template.oauth, input, oauthOverrides, rules)
    const webhook = yield* resolveWebhook(template, webhookOverride, input.webhook_secret)

    let destinationUrl: string | undefined
    if (input.destination_url !== undefined) {
      destinationUrl = yield* checkUrl("destination_url", input.destination_url, rules, {})
    }

    return {
      template: template.key,
      displayName: template.displayName,
      oauth,
      webhook,
      destinationUrl,
    }
  })

const resolveOAuth = (
  templateKey: string,
  template: OAuthTemplate,
  input: ProviderInput,
  overrides: Record<string, unknown>,
  rules: ProviderUrlRules,
) =>
  Effect.gen(function* () {
    // The revocation override is merged separately, where null still means "disable".
    const { revocation: _revocation, ...quirkOverrides } = nullsToUndefined(overrides)
    const unknown = Object.keys(quirkOverrides).find((key) => !quirkNames.has(key))
    if (unknown !== undefined) {
      return yield* ProviderConfigError.invalid(
        `quirks.${unknown}`,
        quirkOverrides[unknown],
        "is not a known quirk",
      )
    }

    const { authorizationUrl: _a, tokenUrl: _t, defaultScopes, ...templateQuirks } = template
    const merged = { ...templateQuirks, ...quirkOverrides } as OAuthQuirks
    const problem = findQuirkProblem(merged)
    if (problem !== undefined) {
      const [field, text] = problem
      return yield* ProviderConfigError.invalid(
        `quirks.${field}`,
        merged[field as keyof OAuthQuirks],
        text,
      )
    }

    const revocation = yield* resolveRevocation(
      merged.revocation,
      merged.clientAuthentication,
      input.revocation_url,
      overrides.revocation,
      rules,
      merged.urlParameters,
    )
    const settings: OAuthQuirks = { ...merged, revocation }

    const clientId = yield* checkClientId(input.client_id)
    const clientSecret = yield* checkSecret("client_secret", input.client_secret)
    if (clientSecret === undefined && needsSecret(settings)) {
      return yield* ProviderConfigError.missing(
        "client_secret",
        "is required unless clientAuthentication and revocation.authMethod are none",
      )
    }

    const authorizationUrl = yield* requireUrl(
      "authorization_url",
      input.authorization_url ?? template.authorizationUrl,
      templateKey,
      rules,
      settings.urlParameters,
    )
    const tokenUrl = yield* requireUrl(
      "token_url",
      input.token_url ?? template.tokenUrl,
      templateKey,
      rules,
      settings.urlParameters,
    )
    const scopes = yield* checkScopes(input.scopes, defaultScopes)

    const result: OAuthSettings = {
      ...settings,
      clientId,
      clientSecret,
      authorizationUrl,
      tokenUrl,
      scopes,
    }
    return result
  })

const resolveRevocation = (
  base: RevocationSettings | undefined,
  clientAuthentication: ClientAuthentication,
  revocationUrl: string | undefined,
  override: unknown,
  rules: ProviderUrlRules,
  urlParameters: Readonly<Record<string, UrlParameter>>,
) =>
  Effect.gen(function* () {
    if (override === null) return undefined
    // RFC 7009 §2.1: the client authenticates as it does at the token endpoint.
    const standard = (url: string) => ({
      ...standardRevocation(url),
      authMethod: clientAuthentication,
    })

    let settings: Record<string, unknown> | undefined = base === undefined ? undefined : { ...base }
    if (revocationUrl !== undefined) {
      settings = { ...(settings ?? standard(revocationUrl)), url: revocationUrl }
    }
    if (override !== undefined) {
      if (!isRecord(override)) {
        return yield* ProviderConfigError.invalid(
          "quirks.revocation",
          override,
          "must be an object or null",
        )
      }
      if (settings === undefined && typeof override.url !== "string") {
        return yield* ProviderConfigError.missing(
          "revocation_url",
          "is required to enable revocation",
        )
      }
      settings = { ...(settings ?? standard(String(override.url))), ...override }
    }
    if (settings === undefined) return undefined

    const problem = findRevocationProblem(settings)
    if (problem !== undefined) {
      const [field, text] = problem
      return yield* ProviderConfigError.invalid(`quirks.revocation.${field}`, settings[field], text)
    }
    const checked = settings as unknown as RevocationSettings
    const urlField = revocationUrl === undefined ? "quirks.revocation.url" : "revocation_url"
    yield* checkUrl(urlField, checked.url, rules, urlParameters)

    const tokenInAuthorization =
      checked.token.in === "header" && checked.token.name.toLowerCase() === "authorization"
    if (tokenInAuthorization && checked.authMethod === "client_secret_basic") {
      return yield* ProviderConfigError.invalid(
        "quirks.revocation.authMethod",
        checked.authMethod,
        "must not be client_secret_basic when the token goes in the authorization header",
      )
    }
    return checked
  })

const rejectOAuthFields = (
  template: Template,
  input: ProviderInput,
  overrides: Record<string, unknown>,
) =>
  Effect.gen(function* () {
    const problem = `is not used by template ${template.key}, which has no OAuth settings`
    for (const field of OAUTH_FIELDS) {
      if (input[field] === undefined) continue
      const displayedValue = field === "client_secret" ? undefined : input[field]
      return yield* ProviderConfigError.invalid(field, displayedValue, problem)
    }
    const quirk = Object.keys(overrides)[0]
    if (quirk !== undefined) {
      return yield* ProviderConfigError.invalid(`quirks.${quirk}`, overrides[quirk], problem)
    }
    return undefined
  })

const needsSecret = (quirks: OAuthQuirks): boolean =>
  quirks.clientAuthentication !== "none" ||
  (quirks.revocation !== undefined && quirks.revocation.authMethod !== "none")
