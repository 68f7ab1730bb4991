/** Webhook settings of a provider: the template's, merged with the user's overrides. */
import { Effect, type Redacted } from "effect"
import { checkSecret, isRecord, nullsToUndefined } from "./InputChecks.ts"
import { ProviderConfigError, type WebhookConfig } from "./ProviderConfig.ts"
import { findWebhookProblem } from "./QuirkChecks.ts"
import { type Template, type WebhookSettings, webhookDefaults } from "./Template.ts"

/**
 * Merges `quirks.webhook` over the template's webhook settings, or removes
 * them when it is null. A template without webhook settings needs the
 * override to name a scheme.
 */
export const resolveWebhook = (
  template: Template,
  override: unknown,
  secret: Redacted.Redacted<string> | undefined,
) =>
  Effect.gen(function* () {
    const checkedSecret = yield* checkSecret("webhook_secret", secret)
    if (override === null) return undefined

    let settings: Record<string, unknown> | undefined =
      template.webhook === undefined ? undefined : { ...template.webhook }
    if (override !== undefined) {
      if (!isRecord(override)) {
        return yield* ProviderConfigError.invalid(
          "quirks.webhook",
          override,
          "must be an object or null",
        )
      }
      // A scheme of the wrong type passes here and fails findWebhookProblem.
      const scheme = override.scheme ?? settings?.scheme
      if (scheme === undefined) {
        return yield* ProviderConfigError.missing(
          "quirks.webhook.scheme",
          `is required because template ${template.key} has no webhook settings`,
        )
      }
      settings = {
        ...webhookDefaults(scheme as WebhookSettings["scheme"]),
        ...settings,
        ...nullsToUndefined(override),
      }
    }
    if (settings === undefined) {
      if (checkedSecret === undefined) return undefined
      return yield* ProviderConfigError.invalid(
        "webhook_secret",
        undefined,
        `is set, but template ${template.key} has no webhook settings; set quirks.webhook.scheme`,
      )
    }

    const problem = findWebhookProblem(settings)
    if (problem !== undefined) {
      const [field, text] = problem
      return yield* ProviderConfigError.invalid(`quirks.webhook.${field}`, settings[field], text)
    }
    const result: WebhookConfig = {
      ...(settings as unknown as WebhookSettings),
      secret: checkedSecret,
    }
    return result
  })
