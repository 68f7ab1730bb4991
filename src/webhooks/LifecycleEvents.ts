/**
 * Provider events that change an integration's status, as data keyed by
 * catalog template: an uninstalled app disconnects the integration, revoked
 * tokens make it need re-authorization. The worker matches events against
 * these rules and never branches on a provider's name.
 */
import { type JsonObject, parseJsonObjectText } from "./verify/Payload.ts"

export type LifecycleStatus = "needs_reauth" | "disconnected"

/** A condition on the parsed JSON body, by dot-separated path. */
export type BodyCondition =
  | { readonly path: string; readonly equals: string }
  /** The value is a non-empty string or array. */
  | { readonly path: string; readonly nonEmpty: true }

export interface LifecycleRule {
  /** The event type the verifier reports: Slack's inner event type, GitHub's `X-GitHub-Event`, Shopify's topic. */
  readonly eventType: string
  /** Every condition must hold; none means the event type alone decides. */
  readonly when: ReadonlyArray<BodyCondition>
  readonly status: LifecycleStatus
  /** Stored as the integration's `status_reason`. */
  readonly reason: string
}

const slackRules: ReadonlyArray<LifecycleRule> = [
  // https://api.slack.com/events/app_uninstalled
  { eventType: "app_uninstalled", when: [], status: "disconnected", reason: "app_uninstalled" },
  // https://api.slack.com/events/tokens_revoked lists the users whose bot or
  // user tokens were revoked.
  {
    eventType: "tokens_revoked",
    when: [{ path: "event.tokens.bot", nonEmpty: true }],
    status: "needs_reauth",
    reason: "tokens_revoked",
  },
]

const slackUserRules: ReadonlyArray<LifecycleRule> = [
  { eventType: "app_uninstalled", when: [], status: "disconnected", reason: "app_uninstalled" },
  {
    eventType: "tokens_revoked",
    when: [{ path: "event.tokens.oauth", nonEmpty: true }],
    status: "needs_reauth",
    reason: "tokens_revoked",
  },
]

/** Rules by catalog template key. */
export const lifecycleRulesByTemplate: Readonly<Record<string, ReadonlyArray<LifecycleRule>>> = {
  slack: slackRules,
  "slack-user": slackUserRules,
  // https://docs.github.com/en/webhooks/webhook-events-and-payloads#installation
  github: [
    {
      eventType: "installation",
      when: [{ path: "action", equals: "deleted" }],
      status: "disconnected",
      reason: "installation_deleted",
    },
    {
      eventType: "github_app_authorization",
      when: [{ path: "action", equals: "revoked" }],
      status: "needs_reauth",
      reason: "authorization_revoked",
    },
  ],
  // https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-app/uninstalled
  shopify: [
    { eventType: "app/uninstalled", when: [], status: "disconnected", reason: "app_uninstalled" },
  ],
}

const valueAt = (body: JsonObject, path: string): unknown => {
  let value: unknown = body
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
    value = (value as JsonObject)[key]
  }
  return value
}

const holds = (body: JsonObject | undefined, condition: BodyCondition): boolean => {
  if (body === undefined) return false
  const value = valueAt(body, condition.path)
  if ("equals" in condition) return value === condition.equals
  return (typeof value === "string" || Array.isArray(value)) && value.length > 0
}

/**
 * Returns the first rule of the template that the event matches. The body is
 * parsed only when a rule for the event type has conditions.
 */
export const matchLifecycleRule = (
  templateKey: string | undefined,
  eventType: string | undefined,
  bodyText: () => string | undefined,
): LifecycleRule | undefined => {
  if (templateKey === undefined || eventType === undefined) return undefined
  const rules = lifecycleRulesByTemplate[templateKey]
  if (rules === undefined) return undefined

  let body: JsonObject | undefined
  let parsed = false
  for (const rule of rules) {
    if (rule.eventType !== eventType) continue
    if (rule.when.length > 0 && !parsed) {
      const text = bodyText()
      body = text === undefined ? undefined : parseJsonObjectText(text)
      parsed = true
    }
    if (rule.when.every((condition) => holds(body, condition))) return rule
  }
  return undefined
}
