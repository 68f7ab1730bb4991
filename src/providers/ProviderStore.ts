/**
 * The `providers` table: create, replace, list and delete providers, with
 * the client secret and webhook secrets encrypted under their cipher
 * contexts. Every write is validated by building the provider first, so an
 * invalid configuration never reaches the table.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../config/AppConfig.ts"
import { TokenCipher, type TokenCipherError } from "../crypto/TokenCipher.ts"
import type { ProviderConfigError } from "../oauth/catalog/index.ts"
import { ProviderInUse, ProviderNotFound } from "../oauth/OAuthErrors.ts"
import { CipherContexts } from "../storage/CipherContexts.ts"
import type { InvalidWebhookConfig } from "../webhooks/verify/index.ts"
import {
  buildProvider,
  type Provider,
  type ProviderSource,
  type StoredProviderFields,
} from "./Provider.ts"

/** A provider as `PUT /v1/providers/{key}` sends it; secrets are already `Redacted`. */
export interface ProviderWrite {
  readonly key: string
  readonly template: string
  readonly clientId: string | undefined
  /** Omitted on a replace, the stored secret is kept. */
  readonly clientSecret: Redacted.Redacted<string> | undefined
  /** Omitted on a replace, the stored secrets are kept. */
  readonly webhookSecret: Redacted.Redacted<string> | undefined
  /**
   * Secret that stays valid next to `webhookSecret` during a rotation. `null`
   * ends a rotation; omitted, see `keepPreviousWebhookSecret`.
   */
  readonly webhookSecretPrevious: Redacted.Redacted<string> | null | undefined
  /** Keeps the stored current webhook secret as the previous one when a new one is set. */
  readonly keepPreviousWebhookSecret: boolean
  readonly destinationUrl: string | undefined
  readonly fields: StoredProviderFields
}

interface ProviderRow {
  readonly key: string
  readonly template: string | null
  readonly config: StoredProviderFields
  readonly client_id: string | null
  readonly client_secret: string | null
  readonly webhook_secrets: ReadonlyArray<string>
  readonly destination_url: string | null
  readonly created_at: Date
  readonly updated_at: Date
}

export type ProviderWriteError =
  | ProviderConfigError
  | InvalidWebhookConfig
  | TokenCipherError
  | SqlError

/** A stored provider that cannot be used, and why. */
export interface UnreadableProvider {
  readonly key: string
  readonly problem: string
}

export class ProviderStore extends Context.Service<
  ProviderStore,
  {
    /**
     * Every provider with its secrets decrypted, ordered by key, and the
     * rows whose secrets could not be decrypted.
     */
    readonly loadAll: Effect.Effect<
      {
        readonly sources: ReadonlyArray<ProviderSource>
        readonly unreadable: ReadonlyArray<UnreadableProvider>
      },
      SqlError
    >
    /** Creates or replaces a provider; returns it as built, and whether it was created. */
    readonly put: (
      write: ProviderWrite,
    ) => Effect.Effect<
      { readonly provider: Provider; readonly created: boolean },
      ProviderWriteError
    >
    /**
     * Deletes a provider. Rejects with `ProviderInUse` while it has
     * integrations that are not disconnected, or webhook endpoints; its
     * disconnected integrations are deleted with it.
     */
    readonly remove: (
      key: string,
    ) => Effect.Effect<void, ProviderNotFound | ProviderInUse | SqlError>
    /** A value that changes whenever a provider is written or deleted, for polling. */
    readonly changeMarker: Effect.Effect<string, SqlError>
  }
>()("app/providers/ProviderStore") {
  static readonly layer = Layer.effect(
    ProviderStore,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient
  const cipher = yield* TokenCipher
  const settings = yield* AppConfig
  const buildOptions = { allowHttpLoopback: settings.allowHttpLoopbackProviders }

  const decryptRow = (row: ProviderRow) =>
    Effect.gen(function* () {
      const clientSecret =
        row.client_secret === null
          ? undefined
          : yield* cipher.decrypt(row.client_secret, CipherContexts.providerClientSecret(row.key))
      const webhookSecrets = yield* Effect.forEach(row.webhook_secrets, (ciphertext) =>
        cipher.decrypt(ciphertext, CipherContexts.providerWebhookSecret(row.key)),
      )
      const source: ProviderSource = {
        key: row.key,
        template: row.template ?? "oauth2",
        clientId: row.client_id ?? undefined,
        clientSecret,
        webhookSecrets,
        destinationUrl: row.destination_url ?? undefined,
        fields: row.config ?? {},
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
      return source
    })

  const selectRows = (key: string | undefined) => sql<ProviderRow>`
    SELECT key, template, config, client_id, client_secret, webhook_secrets, destination_url,
           created_at, updated_at
    FROM providers
    WHERE ${key === undefined ? sql`TRUE` : sql`key = ${key}`}
    ORDER BY key`

  // A row that cannot be decrypted (its key was removed from
  // TOKEN_ENCRYPTION_KEYS) is returned as unreadable instead of failing the
  // load, so one provider's secrets do not stop all the others. Each such
  // row is logged once per process, not on every reload.
  const reportedUnreadable = new Set<string>()
  const decryptOrReport = (row: ProviderRow) =>
    decryptRow(row).pipe(
      Effect.map((source): ProviderSource | UnreadableProvider => source),
      Effect.catchTag("TokenCipherError", (error) => {
        const unreadable: UnreadableProvider = { key: row.key, problem: error.message }
        if (reportedUnreadable.has(row.key)) return Effect.succeed(unreadable)
        reportedUnreadable.add(row.key)
        return Effect.logError("stored provider cannot be decrypted and was skipped").pipe(
          Effect.annotateLogs({ provider: row.key, error: error.message }),
          Effect.as(unreadable),
        )
      }),
    )

  const loadAll = selectRows(undefined).pipe(
    Effect.flatMap((rows) => Effect.forEach(rows, decryptOrReport)),
    Effect.map((loaded) => ({
      sources: loaded.filter((item): item is ProviderSource => !("problem" in item)),
      unreadable: loaded.filter((item): item is UnreadableProvider => "problem" in item),
    })),
    Effect.withSpan("ProviderStore.loadAll"),
  )

  /** Secrets after a write: explicit values win, omitted ones keep the stored values. */
  const mergeSecrets = (write: ProviderWrite, existing: ProviderSource | undefined) => {
    const clientSecret = write.clientSecret ?? existing?.clientSecret
    const storedCurrent = existing?.webhookSecrets[0]
    const storedPrevious = existing?.webhookSecrets[1]
    const current = write.webhookSecret ?? storedCurrent

    let previous: Redacted.Redacted<string> | undefined
    if (write.webhookSecretPrevious === null) previous = undefined
    else if (write.webhookSecretPrevious !== undefined) previous = write.webhookSecretPrevious
    else if (write.webhookSecret === undefined) previous = storedPrevious
    else if (write.keepPreviousWebhookSecret && storedCurrent !== undefined) {
      const unchanged = Redacted.value(storedCurrent) === Redacted.value(write.webhookSecret)
      previous = unchanged ? storedPrevious : storedCurrent
    }
    const webhookSecrets: Array<Redacted.Redacted<string>> = []
    if (current !== undefined) webhookSecrets.push(current)
    if (current !== undefined && previous !== undefined) webhookSecrets.push(previous)
    return { clientSecret, webhookSecrets }
  }

  const put = (write: ProviderWrite) =>
    Effect.gen(function* () {
      const existingRows = yield* selectRows(write.key)
      const existing = existingRows[0] ? yield* decryptRow(existingRows[0]) : undefined
      const secrets = mergeSecrets(write, existing)
      const now = new Date()
      const source: ProviderSource = {
        key: write.key,
        template: write.template,
        clientId: write.clientId,
        clientSecret: secrets.clientSecret,
        webhookSecrets: secrets.webhookSecrets,
        destinationUrl: write.destinationUrl,
        fields: write.fields,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      }
      const provider = yield* buildProvider(source, buildOptions)

      const clientSecret =
        secrets.clientSecret === undefined
          ? null
          : yield* cipher.encrypt(
              secrets.clientSecret,
              CipherContexts.providerClientSecret(write.key),
            )
      const webhookSecrets = yield* Effect.forEach(secrets.webhookSecrets, (secret) =>
        cipher.encrypt(secret, CipherContexts.providerWebhookSecret(write.key)),
      )
      const rows = yield* sql<{ created_at: Date; updated_at: Date; inserted: boolean }>`
        INSERT INTO providers (key, template, config, client_id, client_secret, webhook_secrets,
                               destination_url)
        VALUES (${write.key}, ${write.template}, ${JSON.stringify(write.fields)}::jsonb,
                ${write.clientId ?? null}, ${clientSecret}, ${webhookSecrets},
                ${write.destinationUrl ?? null})
        ON CONFLICT (key) DO UPDATE SET
          template = EXCLUDED.template,
          config = EXCLUDED.config,
          client_id = EXCLUDED.client_id,
          client_secret = EXCLUDED.client_secret,
          webhook_secrets = EXCLUDED.webhook_secrets,
          destination_url = EXCLUDED.destination_url,
          -- clock_timestamp(), not now(), so two writes in one transaction
          -- still move the change marker that other instances poll.
          updated_at = clock_timestamp()
        RETURNING created_at, updated_at, (xmax = 0) AS inserted`
      const row = rows[0]!
      const stored: Provider = {
        ...provider,
        source: { ...source, createdAt: row.created_at, updatedAt: row.updated_at },
      }
      return { provider: stored, created: row.inserted }
    }).pipe(Effect.withSpan("ProviderStore.put", { attributes: { provider: write.key } }))

  const remove = (key: string) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          const locked = yield* sql<{ key: string }>`
            SELECT key FROM providers WHERE key = ${key} FOR UPDATE`
          if (locked.length === 0) {
            return yield* new ProviderNotFound({
              reason: "unknown_key",
              providerKey: key,
              message: `No provider has key ${key}.`,
            })
          }
          const [usage] = yield* sql<{ integrations: number; endpoints: number }>`
            SELECT
              (SELECT count(*)::int FROM integrations
               WHERE provider_key = ${key} AND status <> 'disconnected') AS integrations,
              (SELECT count(*)::int FROM webhook_endpoints
               WHERE provider_key = ${key}) AS endpoints`
          if (usage !== undefined && (usage.integrations > 0 || usage.endpoints > 0)) {
            return yield* new ProviderInUse({
              reason: "has_integrations",
              providerKey: key,
              message:
                `Provider ${key} still has ${usage.integrations} integration(s) and ` +
                `${usage.endpoints} webhook endpoint(s); disconnect or delete them first.`,
            })
          }
          yield* sql`DELETE FROM integrations WHERE provider_key = ${key}`
          yield* sql`DELETE FROM providers WHERE key = ${key}`
        }),
      )
      .pipe(Effect.withSpan("ProviderStore.remove", { attributes: { provider: key } }))

  const changeMarker = sql<{ marker: string }>`
    SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '') AS marker
    FROM providers`.pipe(Effect.map((rows) => rows[0]?.marker ?? ""))

  return ProviderStore.of({ loadAll, put, remove, changeMarker })
})
