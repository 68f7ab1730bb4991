import { Data } from "effect"

export type InvalidWebhookConfigReason =
  | "unknown_scheme"
  | "missing_secret"
  | "too_many_secrets"
  | "invalid_secret"
  | "missing_option"
  | "unknown_option"
  | "invalid_option"

/**
 * A provider's webhook configuration that cannot be used. It names the field
 * (`secrets[0]`, `options.audience`) and the expected form, never a value.
 */
export class InvalidWebhookConfig extends Data.TaggedError("InvalidWebhookConfig")<{
  readonly reason: InvalidWebhookConfigReason
  readonly scheme: string
  readonly field: string
  readonly message: string
}> {
  get code(): "invalid_webhook_config" {
    return "invalid_webhook_config"
  }
}
