/** Provider events that change an integration's status, matched from catalog data. */
import { describe, expect, it } from "@effect/vitest"
import { matchLifecycleRule } from "../../src/webhooks/LifecycleEvents.ts"

const body = (value: unknown) => () => JSON.stringify(value)

describe("lifecycle events", () => {
  it("disconnects on a Slack uninstall", () => {
    const rule = matchLifecycleRule("slack", "app_uninstalled", body({}))
    expect(rule?.status).toBe("disconnected")
  })

  it("needs reauth only when the bot token is revoked", () => {
    const bot = body({ event: { type: "tokens_revoked", tokens: { oauth: [], bot: ["U1"] } } })
    const user = body({ event: { type: "tokens_revoked", tokens: { oauth: ["U1"], bot: [] } } })
    expect(matchLifecycleRule("slack", "tokens_revoked", bot)?.status).toBe("needs_reauth")
    expect(matchLifecycleRule("slack", "tokens_revoked", user)).toBeUndefined()
    expect(matchLifecycleRule("slack-user", "tokens_revoked", user)?.status).toBe("needs_reauth")
  })

  it("matches a GitHub installation only when deleted", () => {
    expect(matchLifecycleRule("github", "installation", body({ action: "deleted" }))?.reason).toBe(
      "installation_deleted",
    )
    expect(
      matchLifecycleRule("github", "installation", body({ action: "created" })),
    ).toBeUndefined()
    expect(matchLifecycleRule("github", "installation", () => "not json")).toBeUndefined()
  })

  it("disconnects on a Shopify uninstall", () => {
    expect(matchLifecycleRule("shopify", "app/uninstalled", () => undefined)?.status).toBe(
      "disconnected",
    )
  })

  it("ignores unknown templates and event types", () => {
    expect(
      matchLifecycleRule("stripe", "account.application.deauthorized", body({})),
    ).toBeUndefined()
    expect(matchLifecycleRule("slack", "message", body({}))).toBeUndefined()
    expect(matchLifecycleRule(undefined, "app_uninstalled", body({}))).toBeUndefined()
  })

  it("parses the body only for rules with conditions", () => {
    let parsed = 0
    const counting = () => {
      parsed += 1
      return "{}"
    }
    matchLifecycleRule("slack", "app_uninstalled", counting)
    matchLifecycleRule("slack", "message", counting)
    expect(parsed).toBe(0)
  })
})
