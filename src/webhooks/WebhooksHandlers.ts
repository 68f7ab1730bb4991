import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../auth/Principal.ts"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError } from "../http/ErrorMapping.ts"
import { readWebhookCounters, type WebhookCounterTotals } from "./CounterReads.ts"
import { type DeadLetterEntry, DeadLetters } from "./DeadLetters.ts"
import { WebhookCounters } from "./WebhookCounters.ts"

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

    return handlers
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
