/**
 * API keys: the admin key from the environment, and organization-scoped keys
 * stored as SHA-256 hashes. A key is shown once, when it is created.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Principal } from "./Principal.ts"

const KEY_PREFIX = "owk_"
const CACHE_TTL_MS = 10_000
const CACHE_MAX_ENTRIES = 10_000

export interface ApiKeyRecord {
  readonly id: string
  readonly name: string
  readonly organizationId: string
  readonly keyPrefix: string
  readonly createdAt: Date
  readonly revokedAt: Date | null
  readonly lastUsedAt: Date | null
}

interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly organization_id: string
  readonly key_prefix: string
  readonly created_at: Date
  readonly revoked_at: Date | null
  readonly last_used_at: Date | null
}

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  organizationId: row.organization_id,
  keyPrefix: row.key_prefix,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
})

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest()

export class ApiKeys extends Context.Service<
  ApiKeys,
  {
    /** Resolves a bearer token to its principal; `None` for an unknown or revoked key. */
    readonly authenticate: (
      token: Redacted.Redacted<string>,
    ) => Effect.Effect<Option.Option<Principal>, SqlError>
    readonly create: (input: {
      readonly organizationId: string
      readonly name: string
    }) => Effect.Effect<
      { readonly record: ApiKeyRecord; readonly key: Redacted.Redacted<string> },
      SqlError
    >
    readonly list: (
      organizationId: string | undefined,
    ) => Effect.Effect<ReadonlyArray<ApiKeyRecord>, SqlError>
    readonly revoke: (id: string) => Effect.Effect<Option.Option<ApiKeyRecord>, SqlError>
  }
>()("app/ApiKeys") {
  static readonly layer = (adminKey: Redacted.Redacted<string>) =>
    Layer.effect(ApiKeys, make(adminKey))
}

const make = (adminKey: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const adminHash = sha256(Redacted.value(adminKey))
    // Positive lookups are cached briefly so each API call does not hit the
    // database; a revoked key stops working within CACHE_TTL_MS.
    const cache = new Map<string, { principal: Principal; expiresAt: number }>()

    const lookup = (hash: Buffer) =>
      sql<{ id: string; organization_id: string }>`
        SELECT id, organization_id FROM api_keys
        WHERE key_hash = ${hash} AND revoked_at IS NULL`.pipe(
        Effect.map((rows) => Option.fromNullishOr(rows[0])),
      )

    const authenticate = (token: Redacted.Redacted<string>) =>
      Effect.gen(function* () {
        const hash = sha256(Redacted.value(token))
        if (timingSafeEqual(hash, adminHash)) return Option.some<Principal>({ kind: "admin" })

        const cacheKey = hash.toString("base64")
        const cached = cache.get(cacheKey)
        if (cached && cached.expiresAt > Date.now()) return Option.some(cached.principal)

        const row = yield* lookup(hash)
        if (Option.isNone(row)) return Option.none<Principal>()
        const principal: Principal = {
          kind: "organization",
          organizationId: row.value.organization_id,
          keyId: row.value.id,
        }
        if (cache.size >= CACHE_MAX_ENTRIES) cache.clear()
        cache.set(cacheKey, { principal, expiresAt: Date.now() + CACHE_TTL_MS })
        yield* sql`UPDATE api_keys SET last_used_at = now() WHERE id = ${row.value.id}`.pipe(
          Effect.ignore,
          Effect.forkDetach,
        )
        return Option.some(principal)
      })

    const create = (input: { readonly organizationId: string; readonly name: string }) =>
      Effect.gen(function* () {
        const key = KEY_PREFIX + randomBytes(32).toString("base64url")
        const rows = yield* sql<ApiKeyRow>`
          INSERT INTO api_keys (id, name, key_hash, key_prefix, organization_id)
          VALUES (gen_random_uuid(), ${input.name}, ${sha256(key)}, ${key.slice(0, 12)},
                  ${input.organizationId})
          RETURNING id, name, organization_id, key_prefix, created_at, revoked_at, last_used_at`
        return { record: toRecord(rows[0]!), key: Redacted.make(key, { label: "api_key" }) }
      })

    const list = (organizationId: string | undefined) =>
      sql<ApiKeyRow>`
        SELECT id, name, organization_id, key_prefix, created_at, revoked_at, last_used_at
        FROM api_keys
        WHERE ${organizationId === undefined ? sql`TRUE` : sql`organization_id = ${organizationId}`}
        ORDER BY created_at, id`.pipe(Effect.map((rows) => rows.map(toRecord)))

    const revoke = (id: string) =>
      Effect.gen(function* () {
        const rows = yield* sql<ApiKeyRow>`
          UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = ${id}
          RETURNING id, name, organization_id, key_prefix, created_at, revoked_at, last_used_at`
        cache.clear()
        return Option.map(Option.fromNullishOr(rows[0]), toRecord)
      })

    return ApiKeys.of({ authenticate, create, list, revoke })
  })
