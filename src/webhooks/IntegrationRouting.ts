/**
 * Maps a webhook event to its integrations and applies provider-signalled
 * status changes. An event from a provider-wide route is matched by the
 * template's routing key (Slack team id, GitHub installation id, Shopify shop
 * domain, Google channel id) against `integrations.external_id`. An event
 * from an endpoint belongs to the endpoint's integration.
 */
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { LifecycleRule } from "./LifecycleEvents.ts"

export interface RoutedIntegration {
  readonly id: string
  readonly organizationId: string
  readonly status: "connected" | "needs_reauth" | "disconnected"
}

export interface IntegrationRoutingShape {
  /**
   * Integrations of the provider with this external id, connected ones
   * first. Several organizations may connect the same workspace, so there
   * can be more than one.
   */
  readonly byExternalId: (
    provider: string,
    externalId: string,
  ) => Effect.Effect<ReadonlyArray<RoutedIntegration>, SqlError>
  readonly byId: (id: string) => Effect.Effect<ReadonlyArray<RoutedIntegration>, SqlError>
  /**
   * Moves the integrations to the rule's status and returns how many
   * changed. A disconnected integration stays disconnected, so an old event
   * never revives or downgrades it.
   */
  readonly applyRule: (
    integrationIds: ReadonlyArray<string>,
    rule: LifecycleRule,
  ) => Effect.Effect<number, SqlError>
}

export class IntegrationRouting extends Context.Service<
  IntegrationRouting,
  IntegrationRoutingShape
>()("app/webhooks/IntegrationRouting") {
  static readonly layer = Layer.effect(
    IntegrationRouting,
    Effect.gen(function* () {
      return make(yield* SqlClient)
    }),
  )
}

interface Row {
  readonly id: string
  readonly organization_id: string
  readonly status: RoutedIntegration["status"]
}

const toRouted = (row: Row): RoutedIntegration => ({
  id: row.id,
  organizationId: row.organization_id,
  status: row.status,
})

function make(sql: SqlClient): IntegrationRoutingShape {
  const byExternalId = (provider: string, externalId: string) =>
    sql<Row>`SELECT id::text AS id, organization_id, status FROM integrations
      WHERE provider_key = ${provider} AND external_id = ${externalId}
      ORDER BY (status = 'connected') DESC, updated_at DESC
      LIMIT 100`.pipe(Effect.map((rows) => rows.map(toRouted)))

  const byId = (id: string) =>
    sql<Row>`SELECT id::text AS id, organization_id, status FROM integrations
      WHERE id = ${id}::uuid`.pipe(Effect.map((rows) => rows.map(toRouted)))

  // The refresher visits only refreshable credentials, and a connection that
  // is no longer `connected` must not be refreshed, so both change together.
  const applyRule = (integrationIds: ReadonlyArray<string>, rule: LifecycleRule) =>
    integrationIds.length === 0
      ? Effect.succeed(0)
      : sql.withTransaction(
          Effect.gen(function* () {
            const changed = yield* sql<{ readonly id: string }>`UPDATE integrations
              SET status = ${rule.status}, status_reason = ${rule.reason}, updated_at = now()
              WHERE id = ANY(${integrationIds}::uuid[])
                AND status <> 'disconnected' AND status <> ${rule.status}
              RETURNING id::text AS id`
            if (changed.length > 0) {
              const ids = changed.map((row) => row.id)
              yield* sql`UPDATE integration_credentials SET refreshable = false, updated_at = now()
                WHERE integration_id = ANY(${ids}::uuid[]) AND refreshable`
            }
            return changed.length
          }),
        )

  return { byExternalId, byId, applyRule }
}
