import { Effect, Redacted } from "effect"
import { compileSignedContent } from "./GenericHmac.ts"
import { InvalidWebhookConfig, type InvalidWebhookConfigReason } from "./InvalidWebhookConfig.ts"
import {
  type GenericHmacOptions,
  isWebhookSchemeName,
  type WebhookSchemeConfig,
  type WebhookSchemeName,
  webhookSchemeNames,
} from "./Scheme.ts"
import { type OptionCheck, optionChecksByScheme } from "./SchemeOptionChecks.ts"
import { standardWebhooksSecretPrefix } from "./StandardWebhooks.ts"

/** Schemes that authenticate without a shared secret, so their `secrets` are ignored. */
const secretlessSchemes: ReadonlySet<WebhookSchemeName> = new Set(["google", "google-pubsub"])

/** Two secrets are valid at once while one is rotated. */
const maxSecrets = 2

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

type Problem = readonly [InvalidWebhookConfigReason, string, string]

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const checkSecrets = (
  scheme: WebhookSchemeName,
  secrets: ReadonlyArray<unknown>,
): Problem | undefined => {
  if (secretlessSchemes.has(scheme)) return undefined
  if (secrets.length === 0) return ["missing_secret", "secrets", "must contain one secret"]
  if (secrets.length > maxSecrets) {
    return ["too_many_secrets", "secrets", "must contain at most two secrets (old and new)"]
  }

  for (const [index, secret] of secrets.entries()) {
    const field = `secrets[${index}]`
    if (!Redacted.isRedacted(secret)) return ["invalid_secret", field, "must be Redacted"]
    const value = Redacted.value(secret)
    if (typeof value !== "string" || value.length === 0) {
      return ["invalid_secret", field, "must be a non-empty string"]
    }
    if (scheme === "standard-webhooks") {
      const encoded = value.slice(standardWebhooksSecretPrefix.length)
      if (!value.startsWith(standardWebhooksSecretPrefix) || !strictBase64.test(encoded)) {
        return ["invalid_secret", field, "must be whsec_ followed by base64 (RFC 4648 section 4)"]
      }
      if (encoded.length === 0) return ["invalid_secret", field, "must contain key bytes"]
    }
  }
  return undefined
}

const checkOptions = (
  scheme: WebhookSchemeName,
  options: Record<string, unknown>,
): Problem | undefined => {
  const checks: Record<string, OptionCheck> = optionChecksByScheme[scheme]

  for (const key of Object.keys(options)) {
    if (!(key in checks)) {
      const accepted = Object.keys(checks).join(", ") || "none"
      return ["unknown_option", `options.${key}`, `is not an option (accepted: ${accepted})`]
    }
  }
  for (const [key, check] of Object.entries(checks)) {
    const value = options[key]
    if (value === undefined) {
      if (check.required) return ["missing_option", `options.${key}`, check.expected]
      continue
    }
    if (!check.isValid(value)) return ["invalid_option", `options.${key}`, check.expected]
  }
  return checkCombinations(scheme, options)
}

/** Rules that involve more than one option. */
const checkCombinations = (
  scheme: WebhookSchemeName,
  options: Record<string, unknown>,
): Problem | undefined => {
  if (scheme === "google") {
    if (options.channels === undefined && options.findChannel === undefined) {
      return ["missing_option", "options.channels", "or options.findChannel must be set"]
    }
    if (options.channels !== undefined && options.findChannel !== undefined) {
      return ["invalid_option", "options.channels", "must not be set with options.findChannel"]
    }
  }
  if (scheme === "generic-hmac") {
    const separator = options.signatureSeparator
    if (typeof separator === "string" && String(options.prefix ?? "").includes(separator)) {
      return ["invalid_option", "options.prefix", "must not contain the signature separator"]
    }
    const template = compileSignedContent(options as unknown as GenericHmacOptions)
    if (typeof template === "string") {
      return ["invalid_option", "options.signedContent", template]
    }
  }
  return undefined
}

/**
 * Validates a provider's webhook scheme, options and secrets when the
 * provider is configured, so a mistake stops start-up instead of rejecting
 * every delivery. Defaults stay unset because each verifier applies them.
 */
export function validateSchemeConfig<N extends WebhookSchemeName>(
  scheme: N,
  options: unknown,
  secrets: ReadonlyArray<Redacted.Redacted<string>>,
): Effect.Effect<WebhookSchemeConfig<N>, InvalidWebhookConfig>
export function validateSchemeConfig(
  scheme: string,
  options: unknown,
  secrets: ReadonlyArray<Redacted.Redacted<string>>,
): Effect.Effect<WebhookSchemeConfig, InvalidWebhookConfig>
export function validateSchemeConfig(
  scheme: string,
  options: unknown,
  secrets: ReadonlyArray<Redacted.Redacted<string>>,
): Effect.Effect<WebhookSchemeConfig, InvalidWebhookConfig> {
  const fail = ([reason, field, expected]: Problem) =>
    Effect.fail(
      new InvalidWebhookConfig({
        reason,
        scheme,
        field,
        message: `invalid ${scheme} webhook configuration: ${field} ${expected}`,
      }),
    )

  if (!isWebhookSchemeName(scheme)) {
    const known = webhookSchemeNames.join(", ")
    return fail(["unknown_scheme", "scheme", `must be one of ${known}`])
  }
  const optionsObject = options ?? {}
  if (!isPlainObject(optionsObject)) {
    return fail(["invalid_option", "options", "must be an object"])
  }

  const problem = checkSecrets(scheme, secrets) ?? checkOptions(scheme, optionsObject)
  if (problem !== undefined) return fail(problem)
  return Effect.succeed({ scheme, secrets, options: optionsObject } as WebhookSchemeConfig)
}
