/**
 * The `webhook_endpoints` table, held in memory like the provider registry:
 * endpoints of providers that sign per installation or per subscription
 * (a Google push channel per integration, say), each with its own secrets.
 * The ingest route reads the snapshot with no I/O; a change marker polled
 * every few seconds brings in rows written by other instances.
 */
import { Context, type Duration, Effect, Layer, type Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { TokenCipher } from "../crypto/TokenCipher.ts"
import { CipherContexts } from "../storage/CipherContexts.ts"

export interface WebhookEndpoint {
  readonly id: string
  readonly providerKey: string
  /** The integration that every event of this endpoint belongs to. */
  readonly integrationId: string | undefined
  /** The current secret first, then the previous one during a rotation. */
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
  /**
   * Scheme options over the provider's. For the `google` scheme:
   * `channelId` (default: the endpoint id) and `resourceId`.
   */
  readonly options: Readonly<Record<string, unknown>>
}

export interface NewWebhookEndpoint {
  readonly providerKey: string
  readonly integrationId?: string | undefined
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
  readonly options?: Readonly<Record<string, unknown>> | undefined
}

interface EndpointRow {
  readonly id: string
  readonly provider_key: string
  readonly integration_id: string | null
  readonly secrets: ReadonlyArray<string>
  readonly options: Record<string, unknown>
}

export interface WebhookEndpointsShape {
  /** The endpoint with this id from the snapshot; never does I/O. */
  readonly get: (id: string) => WebhookEndpoint | undefined
  /** Endpoints of one provider from the snapshot. */
  readonly ofProvider: (providerKey: string) => ReadonlyArray<WebhookEndpoint>
  readonly reload: Effect.Effect<void, SqlError>
  /** Stores a new endpoint with its secrets encrypted, and reloads the snapshot. */
  readonly create: (endpoint: NewWebhookEndpoint) => Effect.Effect<WebhookEndpoint, SqlError>
  /** Deletes an endpoint and reloads the snapshot; `false` when none has the id. */
  readonly remove: (id: string) => Effect.Effect<boolean, SqlError>
}

export class WebhookEndpoints extends Context.Service<WebhookEndpoints, WebhookEndpointsShape>()(
  "app/webhooks/WebhookEndpoints",
) {
  static readonly layer = (options: { readonly pollInterval?: Duration.Input } = {}) =>
    Layer.effect(WebhookEndpoints, make(options.pollInterval ?? "2 seconds"))
}

const make = (pollInterval: Duration.Input) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const cipher = yield* TokenCipher

    let byId = new Map<string, WebhookEndpoint>()
    let byProvider = new Map<string, Array<WebhookEndpoint>>()
    let marker: string | undefined

    const changeMarker = Effect.map(
      sql<{ readonly marker: string }>`SELECT count(*)::text || '/' ||
        coalesce(max(updated_at)::text, '') AS marker FROM webhook_endpoints`,
      (rows) => rows[0]?.marker ?? "",
    )

    // A row whose secret does not decrypt (a key missing from the ring) is
    // left out and logged, so its deliveries are rejected as unknown.
    const toEndpoint = (row: EndpointRow) =>
      Effect.forEach(row.secrets, (secret) =>
        cipher.decrypt(secret, CipherContexts.webhookEndpointSecret(row.id)),
      ).pipe(
        Effect.map(
          (secrets): WebhookEndpoint => ({
            id: row.id,
            providerKey: row.provider_key,
            integrationId: row.integration_id ?? undefined,
            secrets,
            options: row.options,
          }),
        ),
        Effect.catchTag("TokenCipherError", (error) =>
          Effect.logError("webhook endpoint secret failed to decrypt; endpoint skipped").pipe(
            Effect.annotateLogs({ endpoint_id: row.id, reason: error.reason }),
            Effect.as(undefined),
          ),
        ),
      )

    const load = Effect.gen(function* () {
      const nextMarker = yield* changeMarker
      const rows = yield* sql<EndpointRow>`SELECT id::text AS id, provider_key, integration_id::text
        AS integration_id, secrets, options FROM webhook_endpoints`
      const endpoints = yield* Effect.forEach(rows, toEndpoint)
      const nextById = new Map<string, WebhookEndpoint>()
      const nextByProvider = new Map<string, Array<WebhookEndpoint>>()
      for (const endpoint of endpoints) {
        if (endpoint === undefined) continue
        nextById.set(endpoint.id, endpoint)
        const list = nextByProvider.get(endpoint.providerKey) ?? []
        list.push(endpoint)
        nextByProvider.set(endpoint.providerKey, list)
      }
      byId = nextById
      byProvider = nextByProvider
      marker = nextMarker
    }).pipe(Effect.withSpan("WebhookEndpoints.reload"))

    let pollFailing = false
    const poll = Effect.gen(function* () {
      if ((yield* changeMarker) !== marker) yield* load
      if (pollFailing) yield* Effect.logInfo("webhook endpoint poll recovered")
      pollFailing = false
    }).pipe(
      Effect.catch((error) => {
        const log = pollFailing
          ? Effect.void
          : Effect.logWarning("webhook endpoint poll failed; keeping the last snapshot", error)
        pollFailing = true
        return log
      }),
    )

    yield* load
    yield* Effect.forkScoped(Effect.repeat(poll, Schedule.spaced(pollInterval)))

    const create = (endpoint: NewWebhookEndpoint) =>
      Effect.gen(function* () {
        const id = crypto.randomUUID()
        const context = CipherContexts.webhookEndpointSecret(id)
        const secrets = yield* Effect.forEach(endpoint.secrets, (secret) =>
          cipher.encrypt(secret, context),
        )
        yield* sql`INSERT INTO webhook_endpoints (id, provider_key, integration_id, secrets, options)
          VALUES (${id}, ${endpoint.providerKey}, ${endpoint.integrationId ?? null},
            ${secrets}, ${JSON.stringify(endpoint.options ?? {})}::jsonb)`
        yield* load
        return {
          id,
          providerKey: endpoint.providerKey,
          integrationId: endpoint.integrationId,
          secrets: endpoint.secrets,
          options: endpoint.options ?? {},
        }
      })

    const remove = (id: string) =>
      Effect.gen(function* () {
        const rows = yield* sql<{ readonly id: string }>`DELETE FROM webhook_endpoints
          WHERE id = ${id}::uuid RETURNING id::text AS id`
        yield* load
        return rows.length > 0
      })

    return WebhookEndpoints.of({
      get: (id) => byId.get(id.toLowerCase()),
      ofProvider: (providerKey) => byProvider.get(providerKey) ?? [],
      reload: load,
      create,
      remove,
    })
  })
