/**
 * A provider as the service runs it: a catalog template merged with the
 * user's client credentials, endpoints, scopes and quirk overrides.
 */
import { Data, type Redacted } from "effect"
import type { OAuthQuirks, WebhookSettings } from "./Template.ts"

/** OAuth settings of a provider. URLs may still contain placeholders such as `{shop}`. */
export interface OAuthSettings extends OAuthQuirks {
  readonly clientId: string
  /** Undefined only for public clients, whose `clientAuthentication` is `none`. */
  readonly clientSecret: Redacted.Redacted<string> | undefined
  readonly authorizationUrl: string
  readonly tokenUrl: string
  /** Scopes of the provider: the configured ones, or the template's defaults. */
  readonly scopes: ReadonlyArray<string>
}

/**
 * OAuth settings bound to one connect session: every placeholder in the URLs
 * is filled in, so the protocol functions can use them as they are.
 */
export interface OAuthClient extends OAuthSettings {
  /** Values filled into the placeholders, by parameter name. */
  readonly urlValues: Readonly<Record<string, string>>
}

export interface WebhookConfig extends WebhookSettings {
  /**
   * Signing secret. Verifiers must reject every delivery when it is missing,
   * except for schemes that authenticate by other means (`google`,
   * `google-pubsub`).
   */
  readonly secret: Redacted.Redacted<string> | undefined
}

export interface ProviderConfig {
  /** Key of the catalog template the provider was built from. */
  readonly template: string
  readonly displayName: string
  /** Undefined for webhook-only providers. */
  readonly oauth: OAuthSettings | undefined
  readonly webhook: WebhookConfig | undefined
  /** URL that processed events are delivered to, when the provider has its own. */
  readonly destinationUrl: string | undefined
}

/** Reason a provider configuration was rejected. */
export type ProviderConfigErrorReason = "unknown_template" | "missing_field" | "invalid_field"

/**
 * A provider configuration that cannot be used. It names the field and shows
 * the bad value, except for secret fields, whose value is never shown.
 */
export class ProviderConfigError extends Data.TaggedError("ProviderConfigError")<{
  readonly reason: ProviderConfigErrorReason
  /** Input field name, such as `token_url` or `quirks.scopeSeparator`. */
  readonly field: string
  /** The rejected value as shortened JSON, or undefined for secrets and missing values. */
  readonly value: string | undefined
  /** Description of the problem and of the expected form. */
  readonly problem: string
}> {
  static missing(field: string, problem: string): ProviderConfigError {
    return new ProviderConfigError({ reason: "missing_field", field, value: undefined, problem })
  }

  static invalid(field: string, value: unknown, problem: string): ProviderConfigError {
    return new ProviderConfigError({
      reason: "invalid_field",
      field,
      value: showValue(value),
      problem,
    })
  }

  static unknownTemplate(key: unknown, known: ReadonlyArray<string>): ProviderConfigError {
    return new ProviderConfigError({
      reason: "unknown_template",
      field: "template",
      value: showValue(key),
      problem: `is not in the catalog; known templates: ${known.join(", ")}`,
    })
  }

  get code(): "unknown_template" | "invalid_provider_config" {
    return this.reason === "unknown_template" ? "unknown_template" : "invalid_provider_config"
  }

  override get message(): string {
    const shown = this.value === undefined ? "" : ` (got ${this.value})`
    return `invalid provider configuration: ${this.field} ${this.problem}${shown}`
  }
}

const MAX_SHOWN_LENGTH = 200

/** Renders a rejected value as JSON for an error message, shortened to 200 characters. */
const showValue = (value: unknown): string | undefined => {
  if (value === undefined) return undefined
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  // A URL's user name and password never appear in an error.
  text = text.replace(/\/\/[^/@\s"]*@/g, "//***@")
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH)}...` : text
}
