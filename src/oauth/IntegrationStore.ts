/**
 * The `integrations` and `integration_credentials` tables. Tokens are
 * encrypted here, under the integration's id, and every write that touches
 * tokens runs in one transaction with the integration row, so a reader never
 * sees an integration whose status and tokens disagree.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { TokenCipher, type TokenCipherError } from "../crypto/TokenCipher.ts"
import { CipherContexts } from "../storage/CipherContexts.ts"
import type { TokenSet } from "./protocol/TokenResponse.ts"

export type IntegrationStatus = "connected" | "needs_reauth" | "disconnected"

export interface Credentials {
  /** Ciphertexts; decrypt with `decryptAccessToken` and `decryptRefreshToken`. */
  readonly accessToken: string
  readonly refreshToken: string | null
  readonly tokenType: string | null
  readonly expiresAt: Date | null
  readonly refreshable: boolean
  readonly refreshedAt: Date
  /** Incremented by every write; a changed version means another writer won. */
  readonly version: number
}

export interface Integration {
  readonly id: string
  readonly organizationId: string
  readonly providerKey: string
  readonly status: IntegrationStatus
  readonly statusReason: string | null
  readonly scopes: ReadonlyArray<string>
  readonly externalId: string | null
  readonly metadata: Readonly<Record<string, unknown>>
  readonly extra: Readonly<Record<string, unknown>>
  readonly createdAt: Date
  readonly updatedAt: Date
  /** Undefined once the integration is disconnected. */
  readonly credentials: Credentials | undefined
}

export interface ListFilter {
  readonly organizationId: string | undefined
  readonly providerKey: string | undefined
  readonly status: IntegrationStatus | undefined
  /** Return integrations whose id sorts after this one. */
  readonly afterId: string | undefined
  readonly limit: number
}

export interface NewConnection {
  readonly organizationId: string
  readonly providerKey: string
  readonly tokens: TokenSet
  readonly externalId: string | undefined
  readonly metadata: Readonly<Record<string, unknown>>
}

interface Row {
  readonly id: string
  readonly organization_id: string
  readonly provider_key: string
  readonly status: IntegrationStatus
  readonly status_reason: string | null
  readonly scopes: ReadonlyArray<string>
  readonly external_id: string | null
  readonly metadata: Record<string, unknown>
  readonly extra: Record<string, unknown>
  readonly created_at: Date
  readonly updated_at: Date
  readonly access_token: string | null
  readonly refresh_token: string | null
  readonly token_type: string | null
  readonly expires_at: Date | null
  readonly refreshable: boolean | null
  readonly refreshed_at: Date | null
  readonly version: number | null
}

const toIntegration = (row: Row): Integration => ({
  id: row.id,
  organizationId: row.organization_id,
  providerKey: row.provider_key,
  status: row.status,
  statusReason: row.status_reason,
  scopes: row.scopes,
  externalId: row.external_id,
  metadata: row.metadata,
  extra: row.extra,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  credentials:
    row.access_token === null
      ? undefined
      : {
          accessToken: row.access_token,
          refreshToken: row.refresh_token,
          tokenType: row.token_type,
          expiresAt: row.expires_at,
          refreshable: row.refreshable === true,
          refreshedAt: row.refreshed_at ?? row.updated_at,
          version: row.version ?? 0,
        },
})

export class IntegrationStore extends Context.Service<
  IntegrationStore,
  {
    /** The integration with this id, limited to one organization when given. */
    readonly find: (
      id: string,
      organizationId?: string | undefined,
    ) => Effect.Effect<Option.Option<Integration>, SqlError>
    /** One page of integrations ordered by id. */
    readonly list: (filter: ListFilter) => Effect.Effect<ReadonlyArray<Integration>, SqlError>
    /**
     * Creates the integration of an organization and provider, or reconnects
     * the existing one, with its tokens, in one transaction. A stored refresh
     * token is kept when the new tokens have none.
     */
    readonly saveConnection: (
      connection: NewConnection,
    ) => Effect.Effect<{ readonly integration: Integration; readonly created: boolean }, SqlError>
    /**
     * Stores refreshed tokens if the credentials still have `expectedVersion`;
     * returns None when another writer changed them first. A rotated refresh
     * token is written in the same statement as the access token.
     */
    readonly saveRefresh: (
      id: string,
      expectedVersion: number,
      tokens: TokenSet,
    ) => Effect.Effect<Option.Option<Integration>, SqlError>
    /** Moves a connected integration to `needs_reauth` and stops refreshing it. */
    readonly markNeedsReauth: (id: string, reason: string) => Effect.Effect<void, SqlError>
    /** Marks the integration disconnected and deletes its credentials. */
    readonly markDisconnected: (id: string, reason: string) => Effect.Effect<void, SqlError>
    /** Tokens of the integration still queued for revocation at the provider. */
    readonly countPendingRevocations: (id: string) => Effect.Effect<number, SqlError>
    readonly decryptAccessToken: (
      integration: Integration,
    ) => Effect.Effect<Redacted.Redacted<string>, TokenCipherError>
    readonly decryptRefreshToken: (
      integration: Integration,
    ) => Effect.Effect<Redacted.Redacted<string> | undefined, TokenCipherError>
  }
>()("app/oauth/IntegrationStore") {
  static readonly layer = Layer.effect(
    IntegrationStore,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient
  const cipher = yield* TokenCipher

  const selectFrom = sql`
    SELECT i.id, i.organization_id, i.provider_key, i.status, i.status_reason, i.scopes,
           i.external_id, i.metadata, i.extra, i.created_at, i.updated_at,
           c.access_token, c.refresh_token, c.token_type, c.expires_at, c.refreshable,
           c.refreshed_at, c.version::int AS version
    FROM integrations i
    LEFT JOIN integration_credentials c ON c.integration_id = i.id`

  const find = (id: string, organizationId?: string | undefined) =>
    sql<Row>`
      ${selectFrom}
      WHERE i.id = ${id}
        AND ${organizationId === undefined ? sql`TRUE` : sql`i.organization_id = ${organizationId}`}
    `.pipe(
      Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toIntegration)),
      Effect.withSpan("IntegrationStore.find"),
    )

  const list = (filter: ListFilter) => {
    const clauses = [
      filter.organizationId === undefined
        ? sql`TRUE`
        : sql`i.organization_id = ${filter.organizationId}`,
      filter.providerKey === undefined ? sql`TRUE` : sql`i.provider_key = ${filter.providerKey}`,
      filter.status === undefined ? sql`TRUE` : sql`i.status = ${filter.status}`,
      filter.afterId === undefined ? sql`TRUE` : sql`i.id > ${filter.afterId}`,
    ]
    return sql<Row>`
      ${selectFrom}
      WHERE ${sql.and(clauses)}
      ORDER BY i.id
      LIMIT ${filter.limit}`.pipe(
      Effect.map((rows) => rows.map(toIntegration)),
      Effect.withSpan("IntegrationStore.list"),
    )
  }

  const encryptTokens = (id: string, tokens: TokenSet) =>
    Effect.gen(function* () {
      const accessToken = yield* cipher.encrypt(tokens.accessToken, CipherContexts.accessToken(id))
      const refreshToken =
        tokens.refreshToken === undefined
          ? null
          : yield* cipher.encrypt(tokens.refreshToken, CipherContexts.refreshToken(id))
      return { accessToken, refreshToken }
    })

  const saveConnection = (connection: NewConnection) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          const { tokens } = connection
          const [upserted] = yield* sql<{ id: string; inserted: boolean }>`
            INSERT INTO integrations (id, organization_id, provider_key, status, scopes,
                                      external_id, metadata, extra)
            VALUES (${randomUUID()}, ${connection.organizationId}, ${connection.providerKey},
                    'connected', ${[...tokens.scopes]}, ${connection.externalId ?? null},
                    ${JSON.stringify(connection.metadata)}::jsonb,
                    ${JSON.stringify(tokens.extra)}::jsonb)
            ON CONFLICT (organization_id, provider_key) DO UPDATE SET
              status = 'connected',
              status_reason = NULL,
              scopes = EXCLUDED.scopes,
              external_id = COALESCE(EXCLUDED.external_id, integrations.external_id),
              metadata = EXCLUDED.metadata,
              extra = EXCLUDED.extra,
              updated_at = now()
            RETURNING id, (xmax = 0) AS inserted`
          const id = upserted!.id
          const encrypted = yield* encryptTokens(id, tokens)

          // A reconnect without a refresh token keeps the stored one, since
          // providers such as Google send it only on the first consent.
          yield* sql`
            INSERT INTO integration_credentials (integration_id, access_token, refresh_token,
                                                 token_type, expires_at, refreshable)
            VALUES (${id}, ${encrypted.accessToken}, ${encrypted.refreshToken},
                    ${tokens.tokenType}, ${tokens.expiresAt ?? null},
                    ${encrypted.refreshToken !== null})
            ON CONFLICT (integration_id) DO UPDATE SET
              access_token = EXCLUDED.access_token,
              refresh_token = COALESCE(EXCLUDED.refresh_token, integration_credentials.refresh_token),
              token_type = EXCLUDED.token_type,
              expires_at = EXCLUDED.expires_at,
              refreshable = COALESCE(EXCLUDED.refresh_token, integration_credentials.refresh_token)
                            IS NOT NULL,
              refreshed_at = now(),
              version = integration_credentials.version + 1,
              updated_at = now()`
          const rows = yield* sql<Row>`${selectFrom} WHERE i.id = ${id}`
          return { integration: toIntegration(rows[0]!), created: upserted!.inserted }
        }),
      )
      .pipe(Effect.withSpan("IntegrationStore.saveConnection"))

  const saveRefresh = (id: string, expectedVersion: number, tokens: TokenSet) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          const encrypted = yield* encryptTokens(id, tokens)
          const updated = yield* sql<{ integration_id: string }>`
            UPDATE integration_credentials SET
              access_token = ${encrypted.accessToken},
              refresh_token = COALESCE(${encrypted.refreshToken}, refresh_token),
              token_type = ${tokens.tokenType},
              expires_at = ${tokens.expiresAt ?? null},
              refreshed_at = now(),
              version = version + 1,
              updated_at = now()
            WHERE integration_id = ${id} AND version = ${expectedVersion}
            RETURNING integration_id`
          if (updated.length === 0) return Option.none<Integration>()
          yield* sql`
            UPDATE integrations SET scopes = ${[...tokens.scopes]}, updated_at = now()
            WHERE id = ${id}`
          const rows = yield* sql<Row>`${selectFrom} WHERE i.id = ${id}`
          return Option.map(Option.fromNullishOr(rows[0]), toIntegration)
        }),
      )
      .pipe(Effect.withSpan("IntegrationStore.saveRefresh"))

  const markNeedsReauth = (id: string, reason: string) =>
    sql
      .withTransaction(
        Effect.all([
          sql`
            UPDATE integrations SET status = 'needs_reauth', status_reason = ${reason},
                                    updated_at = now()
            WHERE id = ${id} AND status = 'connected'`,
          sql`
            UPDATE integration_credentials SET refreshable = false, updated_at = now()
            WHERE integration_id = ${id}`,
        ]),
      )
      .pipe(Effect.asVoid, Effect.withSpan("IntegrationStore.markNeedsReauth"))

  const markDisconnected = (id: string, reason: string) =>
    sql
      .withTransaction(
        Effect.all([
          sql`
            UPDATE integrations SET status = 'disconnected', status_reason = ${reason},
                                    updated_at = now()
            WHERE id = ${id}`,
          sql`DELETE FROM integration_credentials WHERE integration_id = ${id}`,
        ]),
      )
      .pipe(Effect.asVoid, Effect.withSpan("IntegrationStore.markDisconnected"))

  const countPendingRevocations = (id: string) =>
    sql<{ count: number }>`
      SELECT count(*)::int AS count FROM revocations WHERE integration_id = ${id}`.pipe(
      Effect.map((rows) => rows[0]?.count ?? 0),
    )

  const decryptAccessToken = (integration: Integration) =>
    cipher.decrypt(
      integration.credentials?.accessToken ?? "",
      CipherContexts.accessToken(integration.id),
    )

  const decryptRefreshToken = (integration: Integration) => {
    const ciphertext = integration.credentials?.refreshToken
    if (ciphertext === undefined || ciphertext === null) return Effect.succeed(undefined)
    return cipher.decrypt(ciphertext, CipherContexts.refreshToken(integration.id))
  }

  return IntegrationStore.of({
    find,
    list,
    saveConnection,
    saveRefresh,
    markNeedsReauth,
    markDisconnected,
    countPendingRevocations,
    decryptAccessToken,
    decryptRefreshToken,
  })
})
