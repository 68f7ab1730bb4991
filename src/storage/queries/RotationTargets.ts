/**
 * The encrypted columns that key rotation rewrites, one target per table.
 *
 * Each target selects a batch of rows containing a ciphertext under another key
 * with `FOR UPDATE SKIP LOCKED`, in primary-key order after a cursor, and
 * writes the re-encrypted values back with one `UPDATE ... FROM unnest(...)`.
 * The SQL filter reads the key id as the second `:`-separated field of the
 * TokenCipher v1 format (`v1:<keyId>:<data>`). `TokenCipher.isActive` decides
 * in the end, so a row that the filter selects needlessly is left unchanged.
 */
import { PgTypes } from "@effect/sql-pg"
import { Effect, type Redacted, Result } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { CipherContext, TokenCipherError, TokenCipherShape } from "../../crypto/TokenCipher.ts"
import { CipherContexts } from "../CipherContexts.ts"

export interface RotationTarget {
  readonly table: string
  /**
   * Re-encrypts up to `limit` rows whose key is after `after`. Returns the
   * last key seen and the number of rows changed.
   */
  readonly rotateBatch: (
    sql: SqlClient,
    cipher: TokenCipherShape,
    after: string | undefined,
    limit: number,
  ) => Effect.Effect<
    { readonly last: string | undefined; readonly changed: number },
    SqlError | TokenCipherError
  >
  /** Counts rows that still contain a ciphertext under another key. */
  readonly countRemaining: (sql: SqlClient, activeKeyId: string) => Effect.Effect<number, SqlError>
}

/** Returns the value re-encrypted under the active key, or the value itself when it already is. */
const rotateValue = (
  cipher: TokenCipherShape,
  ciphertext: string,
  context: CipherContext,
): Effect.Effect<string, TokenCipherError> =>
  cipher.isActive(ciphertext)
    ? Effect.succeed(ciphertext)
    : Effect.flatMap(cipher.decrypt(ciphertext, context), (plaintext: Redacted.Redacted<string>) =>
        cipher.encrypt(plaintext, context),
      )

const rotateNullable = (
  cipher: TokenCipherShape,
  ciphertext: string | null,
  context: CipherContext,
) => (ciphertext === null ? Effect.succeed(null) : rotateValue(cipher, ciphertext, context))

const rotateAll = (
  cipher: TokenCipherShape,
  ciphertexts: ReadonlyArray<string>,
  context: CipherContext,
) => Effect.forEach(ciphertexts, (ciphertext) => rotateValue(cipher, ciphertext, context))

const sameArray = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((value, index) => value === b[index])

const countOf = (rows: ReadonlyArray<{ readonly count: bigint | number }>) =>
  Number(rows[0]?.count ?? 0)

/**
 * Binds strings and nulls as one `text[]` parameter. An explicit element type
 * is needed because sql-pg cannot infer one for an array of nulls only.
 */
const textArray = (values: ReadonlyArray<string | null>) =>
  Result.getOrThrow(PgTypes.array(values, PgTypes.OID.text))

interface ProviderRow {
  readonly key: string
  readonly client_secret: string | null
  readonly webhook_secrets: ReadonlyArray<string>
}

const providers: RotationTarget = {
  table: "providers",
  rotateBatch: (sql, cipher, after, limit) =>
    Effect.gen(function* () {
      const rows = yield* sql<ProviderRow>`SELECT key, client_secret, webhook_secrets FROM providers
        WHERE key > ${after ?? ""}
          AND (split_part(client_secret, ':', 2) <> ${cipher.activeKeyId}
            OR EXISTS (SELECT 1 FROM unnest(webhook_secrets) AS s
              WHERE split_part(s, ':', 2) <> ${cipher.activeKeyId}))
        ORDER BY key LIMIT ${limit} FOR UPDATE SKIP LOCKED`

      // A secret array travels as JSON text in a text[] parameter, because
      // Postgres arrays must be rectangular and the rows' arrays differ in length.
      const updates: Array<{ key: string; clientSecret: string | null; webhookSecrets: string }> =
        []
      for (const row of rows) {
        const clientSecret = yield* rotateNullable(
          cipher,
          row.client_secret,
          CipherContexts.providerClientSecret(row.key),
        )
        const webhookSecrets = yield* rotateAll(
          cipher,
          row.webhook_secrets,
          CipherContexts.providerWebhookSecret(row.key),
        )
        if (clientSecret === row.client_secret && sameArray(webhookSecrets, row.webhook_secrets))
          continue
        updates.push({ key: row.key, clientSecret, webhookSecrets: JSON.stringify(webhookSecrets) })
      }

      if (updates.length > 0) {
        yield* sql`UPDATE providers AS p SET
            client_secret = u.client_secret,
            webhook_secrets = ARRAY(SELECT jsonb_array_elements_text(u.webhook_secrets::jsonb)),
            updated_at = now()
          FROM unnest(${updates.map((u) => u.key)}::text[],
            ${textArray(updates.map((u) => u.clientSecret))}::text[],
            ${updates.map((u) => u.webhookSecrets)}::text[])
            AS u(key, client_secret, webhook_secrets)
          WHERE p.key = u.key`
      }
      return { last: rows.at(-1)?.key, changed: updates.length }
    }),
  countRemaining: (sql, active) =>
    Effect.map(
      sql<{ count: bigint }>`SELECT count(*) AS count FROM providers
        WHERE split_part(client_secret, ':', 2) <> ${active}
          OR EXISTS (SELECT 1 FROM unnest(webhook_secrets) AS s
            WHERE split_part(s, ':', 2) <> ${active})`,
      countOf,
    ),
}

interface EndpointRow {
  readonly id: string
  readonly secrets: ReadonlyArray<string>
}

const webhookEndpoints: RotationTarget = {
  table: "webhook_endpoints",
  rotateBatch: (sql, cipher, after, limit) =>
    Effect.gen(function* () {
      const rows = yield* sql<EndpointRow>`SELECT id::text AS id, secrets FROM webhook_endpoints
        WHERE id > ${after ?? "00000000-0000-0000-0000-000000000000"}::uuid
          AND EXISTS (SELECT 1 FROM unnest(secrets) AS s
            WHERE split_part(s, ':', 2) <> ${cipher.activeKeyId})
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`

      const updates: Array<{ id: string; secrets: string }> = []
      for (const row of rows) {
        const secrets = yield* rotateAll(
          cipher,
          row.secrets,
          CipherContexts.webhookEndpointSecret(row.id),
        )
        if (sameArray(secrets, row.secrets)) continue
        updates.push({ id: row.id, secrets: JSON.stringify(secrets) })
      }

      if (updates.length > 0) {
        yield* sql`UPDATE webhook_endpoints AS e SET
            secrets = ARRAY(SELECT jsonb_array_elements_text(u.secrets::jsonb)),
            updated_at = now()
          FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.secrets)}::text[])
            AS u(id, secrets)
          WHERE e.id = u.id`
      }
      return { last: rows.at(-1)?.id, changed: updates.length }
    }),
  countRemaining: (sql, active) =>
    Effect.map(
      sql<{ count: bigint }>`SELECT count(*) AS count FROM webhook_endpoints
        WHERE EXISTS (SELECT 1 FROM unnest(secrets) AS s WHERE split_part(s, ':', 2) <> ${active})`,
      countOf,
    ),
}

interface CredentialRow {
  readonly integration_id: string
  readonly access_token: string
  readonly refresh_token: string | null
}

const integrationCredentials: RotationTarget = {
  table: "integration_credentials",
  rotateBatch: (sql, cipher, after, limit) =>
    Effect.gen(function* () {
      const rows = yield* sql<CredentialRow>`SELECT integration_id::text AS integration_id,
          access_token, refresh_token
        FROM integration_credentials
        WHERE integration_id > ${after ?? "00000000-0000-0000-0000-000000000000"}::uuid
          AND (split_part(access_token, ':', 2) <> ${cipher.activeKeyId}
            OR split_part(refresh_token, ':', 2) <> ${cipher.activeKeyId})
        ORDER BY integration_id LIMIT ${limit} FOR UPDATE SKIP LOCKED`

      const updates: Array<{ id: string; accessToken: string; refreshToken: string | null }> = []
      for (const row of rows) {
        const id = row.integration_id
        const accessToken = yield* rotateValue(
          cipher,
          row.access_token,
          CipherContexts.accessToken(id),
        )
        const refreshToken = yield* rotateNullable(
          cipher,
          row.refresh_token,
          CipherContexts.refreshToken(id),
        )
        if (accessToken === row.access_token && refreshToken === row.refresh_token) continue
        updates.push({ id, accessToken, refreshToken })
      }

      if (updates.length > 0) {
        // The version bump makes the compare-and-set of a refresher that read
        // the old row fail, so that refresher reads the row again.
        yield* sql`UPDATE integration_credentials AS c SET
            access_token = u.access_token,
            refresh_token = u.refresh_token,
            version = c.version + 1,
            updated_at = now()
          FROM unnest(${updates.map((u) => u.id)}::uuid[],
            ${updates.map((u) => u.accessToken)}::text[],
            ${textArray(updates.map((u) => u.refreshToken))}::text[])
            AS u(integration_id, access_token, refresh_token)
          WHERE c.integration_id = u.integration_id`
      }
      return { last: rows.at(-1)?.integration_id, changed: updates.length }
    }),
  countRemaining: (sql, active) =>
    Effect.map(
      sql<{ count: bigint }>`SELECT count(*) AS count FROM integration_credentials
        WHERE split_part(access_token, ':', 2) <> ${active}
          OR split_part(refresh_token, ':', 2) <> ${active}`,
      countOf,
    ),
}

interface RevocationRow {
  readonly id: string
  readonly token: string
}

const revocations: RotationTarget = {
  table: "revocations",
  rotateBatch: (sql, cipher, after, limit) =>
    Effect.gen(function* () {
      const rows = yield* sql<RevocationRow>`SELECT id::text AS id, token FROM revocations
        WHERE id > ${after ?? "00000000-0000-0000-0000-000000000000"}::uuid
          AND split_part(token, ':', 2) <> ${cipher.activeKeyId}
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`

      const updates: Array<{ id: string; token: string }> = []
      for (const row of rows) {
        const token = yield* rotateValue(cipher, row.token, CipherContexts.revocationToken(row.id))
        if (token !== row.token) updates.push({ id: row.id, token })
      }

      if (updates.length > 0) {
        yield* sql`UPDATE revocations AS r SET token = u.token, updated_at = now()
          FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.token)}::text[])
            AS u(id, token)
          WHERE r.id = u.id`
      }
      return { last: rows.at(-1)?.id, changed: updates.length }
    }),
  countRemaining: (sql, active) =>
    Effect.map(
      sql<{ count: bigint }>`SELECT count(*) AS count FROM revocations
        WHERE split_part(token, ':', 2) <> ${active}`,
      countOf,
    ),
}

/** Every table with encrypted columns, in the order rotation visits them. */
export const ROTATION_TARGETS: ReadonlyArray<RotationTarget> = [
  providers,
  webhookEndpoints,
  integrationCredentials,
  revocations,
]
