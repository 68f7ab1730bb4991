/** The provider catalog: templates, provider configuration and its checks. */
export { findTemplate, listTemplates } from "./Catalog.ts"
export { resolveOAuthClient } from "./OAuthClient.ts"
export {
  type OAuthClient,
  type OAuthSettings,
  type ProviderConfig,
  ProviderConfigError,
  type ProviderConfigErrorReason,
  type WebhookConfig,
} from "./ProviderConfig.ts"
export { isLoopbackHost, type ProviderUrlRules } from "./ProviderUrl.ts"
export {
  type ProviderInput,
  type ResolveProviderOptions,
  resolveProvider,
} from "./resolveProvider.ts"
export * from "./Template.ts"
