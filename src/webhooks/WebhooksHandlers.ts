import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql/SqlClient"
import { CurrentPrincipal } from "../auth/Principal.ts"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError } from "../http/ErrorMapping.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { readWebhookCounters, type WebhookCounterTotals } from "./CounterReads.ts"
import { type DeadLetterEntry, DeadLetters } from "./DeadLetters.ts"
import { IntegrationRouting } from "./IntegrationRouting.ts"
import { WebhookCounters } from "./WebhookCounters.ts"
import { type WebhookEndpoint, WebhookEndpoints } from "./WebhookEndpoints.ts"
import { endpointScheme } from "./WebhookSourcesLive.ts"

const requireAdmin = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  if (principal.kind !== "admin") {
    return yield* Effect.fail(
      apiError(403, "admin_key_required", "Webhook operations require the admin key."),
    )
  }
})

const deadLetterView = (entry: DeadLetterEntry) => {
  const event = entry.event
  return {
    id: entry.id,
    event_id: entry.eventId,
    provider: entry.provider,
    endpoint_id: event?.endpointId ?? null,
    delivery_id: event?.deliveryId ?? null,
    routing_key: event?.routingKey ?? null,
    event_type: event?.eventType ?? null,
    received_at: event === undefined ? null : new Date(event.receivedAt).toISOString(),
    dead_lettered_at: new Date(entry.deadLetteredAt).toISOString(),
    attempts: entry.attempts,
    last_error: entry.lastError,
    last_status: entry.lastStatus ?? null,
    headers: event?.headers ?? {},
    // An entry that could not be decoded shows its raw stream payload.
    body: event?.body ?? entry.payload ?? "",
    body_encoding: event?.bodyEncoding ?? ("utf8" as const),
  }
}

const endpointView = (endpoint: WebhookEndpoint) => ({
  id: endpoint.id,
  provider: endpoint.providerKey,
  integration_id: endpoint.integrationId ?? null,
  has_secret: endpoint.secrets.length > 0,
  has_previous_secret: endpoint.secrets.length > 1,
  options: endpoint.options,
  url_path: `/webhooks/${endpoint.providerKey}/${endpoint.id}`,
})

const counterView = (totals: WebhookCounterTotals) => ({
  provider: totals.provider,
  endpoint_id: totals.endpointId === "" ? null : totals.endpointId,
  received: totals.received,
  accepted: totals.accepted,
  rejected: totals.rejected,
  rejected_by_reason: totals.rejectedByReason,
  duplicates: totals.duplicates,
  delivered: totals.delivered,
  failed: totals.failed,
  dead_lettered: totals.deadLettered,
  updated_at: totals.updatedAt.toISOString(),
})

export const WebhooksHandlers = HttpApiBuilder.group(Api, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const deadLetters = yield* DeadLetters
    const counters = yield* WebhookCounters
    const sql = yield* SqlClient
    const endpoints = yield* WebhookEndpoints
    const registry = yield* ProviderRegistry
    const routing = yield* IntegrationRouting

    return handlers
      .handle("createEndpoint", ({ payload }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const provider = Option.getOrUndefined(registry.get(payload.provider))
          if (provider === undefined) {
            return yield* Effect.fail(
              apiError(404, "provider_not_found", `No provider has key ${payload.provider}.`),
            )
          }
          if (provider.webhook === undefined) {
            return yield* Effect.fail(
              apiError(
                400,
                "webhooks_not_configured",
                `Provider ${payload.provider} has no webhook scheme configured.`,
              ),
            )
          }
          if (payload.integration_id !== undefined) {
            const found = yield* orApiError(routing.byId(payload.integration_id))
            if (found.length === 0) {
              return yield* Effect.fail(
                apiError(
                  404,
                  "integration_not_found",
                  `No integration has id ${payload.integration_id}.`,
                ),
              )
            }
          }
          const secrets = [payload.secret, payload.previous_secret].filter(
            (secret) => secret !== undefined,
          )
          const draft: WebhookEndpoint = {
            id: crypto.randomUUID(),
            providerKey: provider.key,
            integrationId: payload.integration_id,
            secrets,
            options: payload.options ?? {},
          }
          // The same check the ingest route runs, so an endpoint that could
          // never verify a delivery is rejected here rather than stored.
          if (endpointScheme(provider.webhook, draft) === undefined) {
            return yield* Effect.fail(
              apiError(
                400,
                "invalid_webhook_config",
                "The endpoint's secret and options do not form a valid configuration " +
                  `for the ${provider.webhook.scheme.scheme} scheme.`,
              ),
            )
          }
          const created = yield* orApiError(
            endpoints.create({
              providerKey: provider.key,
              integrationId: payload.integration_id,
              secrets,
              options: payload.options,
            }),
          )
          return endpointView(created)
        }),
      )
      .handle("listEndpoints", ({ query }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const providers =
            query.provider === undefined
              ? registry.all().map((provider) => provider.key)
              : [query.provider]
          const data = providers.flatMap((key) => endpoints.ofProvider(key)).map(endpointView)
          return { data }
        }),
      )
      .handle("removeEndpoint", ({ params }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const removed = yield* orApiError(endpoints.remove(params.id))
          if (!removed) {
            return yield* Effect.fail(
              apiError(404, "unknown_endpoint", `No webhook endpoint has id ${params.id}.`),
            )
          }
        }),
      )
      .handle("listDeadLetters", ({ query }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const page = yield* orApiError(
            deadLetters.list({
              provider: query.provider,
              limit: query.limit ?? 50,
              cursor: query.cursor,
            }),
          )
          return { data: page.data.map(deadLetterView), next_cursor: page.nextCursor ?? null }
        }),
      )
      .handle("replayDeadLetter", ({ params }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const replayed = yield* orApiError(deadLetters.replay(params.id))
          if (!replayed) {
            return yield* Effect.fail(
              apiError(404, "dead_letter_not_found", `No dead letter has id ${params.id}.`),
            )
          }
          return { replayed: 1 }
        }),
      )
      .handle("replayDeadLetters", ({ query }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          return yield* orApiError(deadLetters.replayAll({ provider: query.provider }))
        }),
      )
      .handle("counters", ({ query }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          // This process's counts of the last second are written first, so a
          // caller sees them; other instances' counts arrive within a second.
          yield* counters.flush
          const rows = yield* orApiError(
            readWebhookCounters(query.provider).pipe(Effect.provideService(SqlClient, sql)),
          )
          return { data: rows.map(counterView) }
        }),
      )
  }),
)
