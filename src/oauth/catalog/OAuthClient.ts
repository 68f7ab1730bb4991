/**
 * Binds a provider's OAuth settings to one connect session by filling the
 * URL placeholders, such as Shopify's `{shop}`, from the session metadata.
 */
import { Effect } from "effect"
import type { OAuthClient, ProviderConfig } from "./ProviderConfig.ts"
import { ProviderConfigError } from "./ProviderConfig.ts"
import {
  CLIENT_ID_PLACEHOLDER,
  fillPlaceholders,
  findUrlProblem,
  placeholdersIn,
} from "./ProviderUrl.ts"

/**
 * Fills every placeholder in the provider's URLs. Each value comes from
 * `metadata[parameter.metadataKey]`, or the parameter's default, and must
 * match the parameter's pattern as a whole.
 */
export const resolveOAuthClient = (
  config: ProviderConfig,
  metadata: Readonly<Record<string, unknown>> = {},
): Effect.Effect<OAuthClient, ProviderConfigError> =>
  Effect.gen(function* () {
    const oauth = config.oauth
    if (oauth === undefined) {
      return yield* ProviderConfigError.invalid(
        "template",
        config.template,
        "has no OAuth settings",
      )
    }

    const urls = [oauth.authorizationUrl, oauth.tokenUrl, oauth.revocation?.url ?? ""]
    const used = new Set(urls.flatMap(placeholdersIn))
    const urlValues: Record<string, string> = {}

    for (const [name, parameter] of Object.entries(oauth.urlParameters)) {
      if (!used.has(name)) continue
      const field = `metadata.${parameter.metadataKey}`
      const value = metadata[parameter.metadataKey] ?? parameter.default
      if (value === undefined) {
        return yield* ProviderConfigError.missing(
          field,
          `is required to fill {${name}} in the provider URLs`,
        )
      }
      if (typeof value !== "string" || !new RegExp(`^(?:${parameter.pattern})$`).test(value)) {
        return yield* ProviderConfigError.invalid(field, value, `must match ${parameter.pattern}`)
      }
      urlValues[name] = value
    }

    const values = { ...urlValues, [CLIENT_ID_PLACEHOLDER]: oauth.clientId }
    const fill = (field: string, url: string) => {
      const filled = fillPlaceholders(url, values)
      // The scheme and host rules held for the unfilled URL, and the values
      // are percent-encoded, so this only catches a value that breaks the
      // URL's syntax.
      const problem = findUrlProblem(filled, { allowHttpLoopback: true })
      return problem === undefined
        ? Effect.succeed(filled)
        : Effect.fail(ProviderConfigError.invalid(field, filled, problem))
    }

    const authorizationUrl = yield* fill("authorization_url", oauth.authorizationUrl)
    const tokenUrl = yield* fill("token_url", oauth.tokenUrl)
    const revocation =
      oauth.revocation === undefined
        ? undefined
        : { ...oauth.revocation, url: yield* fill("revocation_url", oauth.revocation.url) }

    const client: OAuthClient = { ...oauth, authorizationUrl, tokenUrl, revocation, urlValues }
    return client
  })
