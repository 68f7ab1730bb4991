/**
 * Disconnecting an integration: each token is revoked at the provider on its
 * own (RFC 7009 §2.1), the refresh token first because revoking it usually
 * ends the whole grant. A 2xx and an "already invalid" response both count as
 * revoked (RFC 7009 §2.2). A 5xx, 429, timeout or open circuit leaves the
 * token, re-encrypted, in the `revocations` table, where `processDue` retries
 * it with backoff. The integration is disconnected and its credentials are
 * deleted in any case.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { TokenCipher, type TokenCipherError } from "../crypto/TokenCipher.ts"
import { ProviderRegistry } from "../providers/ProviderRegistry.ts"
import { CipherContexts } from "../storage/CipherContexts.ts"
import type { OAuthClient } from "./catalog/index.ts"
import { resolveOAuthClient } from "./catalog/index.ts"
import type { RevocableToken } from "./catalog/Template.ts"
import { type Integration, IntegrationStore } from "./IntegrationStore.ts"
import { IntegrationNotFound } from "./OAuthErrors.ts"
import { OAuthEvents } from "./OAuthEvents.ts"
import * as OAuthMetrics from "./OAuthMetrics.ts"
import { ProviderHttp } from "./ProviderHttp.ts"
import { classifyRevocationResponse } from "./protocol/Revocation.ts"
import { buildRevocationRequest } from "./protocol/TokenRequest.ts"

/** Result of one revocation attempt. */
type Attempt =
  | {
      readonly _tag: "Done"
      readonly outcome: "revoked" | "already_revoked" | "failed" | "skipped"
    }
  | {
      readonly _tag: "RetryLater"
      readonly detail: string
      readonly retryAfterSeconds: number | undefined
    }

/** Attempts before a queued revocation is dropped; about a day with the backoff below. */
const MAX_ATTEMPTS = 16
const FIRST_RETRY_SECONDS = 5
const MAX_RETRY_SECONDS = 6 * 60 * 60
/** How long a claimed row stays hidden from other workers while it is attempted. */
const CLAIM_SECONDS = 300

/** Exponential backoff with up to 20 % jitter, in seconds, after `attempts` failures. */
const backoffSeconds = (attempts: number, retryAfter: number | undefined): number => {
  const base = Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1))
  const jittered = base * (1 + Math.random() * 0.2)
  return Math.ceil(Math.max(jittered, retryAfter ?? 0))
}

export interface ProcessedRevocations {
  readonly revoked: number
  readonly retried: number
  readonly dropped: number
}

interface QueuedRow {
  readonly id: string
  readonly integration_id: string | null
  readonly provider_key: string
  readonly token_type_hint: RevocableToken
  readonly token: string
  readonly attempts: number
}

export class Revocations extends Context.Service<
  Revocations,
  {
    /**
     * Revokes the integration's tokens, queues the ones the provider could
     * not take now, and marks it disconnected. An already disconnected
     * integration succeeds without a provider call.
     */
    readonly disconnect: (
      id: string,
      organizationId?: string | undefined,
    ) => Effect.Effect<void, IntegrationNotFound | SqlError | TokenCipherError>
    /** Retries up to `limit` queued revocations that are due. */
    readonly processDue: (limit: number) => Effect.Effect<ProcessedRevocations, SqlError>
  }
>()("app/oauth/Revocations") {
  static readonly layer = Layer.effect(
    Revocations,
    Effect.suspend(() => make),
  )
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient
  const cipher = yield* TokenCipher
  const store = yield* IntegrationStore
  const registry = yield* ProviderRegistry
  const providerHttp = yield* ProviderHttp
  const events = yield* OAuthEvents

  const clientFor = (providerKey: string, metadata: Readonly<Record<string, unknown>>) => {
    const provider = registry.get(providerKey)
    if (Option.isNone(provider)) return Effect.succeed(Option.none<OAuthClient>())
    return resolveOAuthClient(provider.value.config, metadata).pipe(Effect.option)
  }

  /** Sends one revocation request without retries; the queue is the retry. */
  const attempt = (
    providerKey: string,
    client: OAuthClient,
    tokenType: RevocableToken,
    token: Redacted.Redacted<string>,
    owner: { readonly integrationId: string | null; readonly organizationId: string },
  ) =>
    Effect.gen(function* () {
      const request = buildRevocationRequest(client, { token, tokenType })
      let result: Attempt
      if (request === undefined) {
        result = { _tag: "Done", outcome: "skipped" }
      } else {
        const sent = yield* Effect.result(
          providerHttp.send(providerKey, "revocation", request, { retries: 0 }),
        )
        if (sent._tag === "Failure") {
          result = {
            _tag: "RetryLater",
            detail: sent.failure.code,
            retryAfterSeconds: sent.failure.retryAfterSeconds,
          }
        } else {
          const outcome = classifyRevocationResponse(client, sent.success)
          if (outcome._tag === "RetryLater") {
            result = {
              _tag: "RetryLater",
              detail: `HTTP ${outcome.status}`,
              retryAfterSeconds: outcome.retryAfterSeconds,
            }
          } else if (outcome._tag === "Failed") {
            yield* Effect.logWarning("provider refused a token revocation; not retrying").pipe(
              Effect.annotateLogs({
                provider: providerKey,
                token_type: tokenType,
                status: outcome.status,
                provider_error: outcome.error ?? "",
              }),
            )
            result = { _tag: "Done", outcome: "failed" }
          } else {
            result = {
              _tag: "Done",
              outcome: outcome._tag === "Revoked" ? "revoked" : "already_revoked",
            }
          }
        }
      }
      const outcome = result._tag === "Done" ? result.outcome : "queued"
      yield* OAuthMetrics.increment(OAuthMetrics.revocationsTotal, {
        provider: providerKey,
        outcome,
      })
      if (outcome !== "skipped") {
        yield* events.emit({
          kind: "revocation",
          provider: providerKey,
          organization_id: owner.organizationId,
          integration_id: owner.integrationId ?? "",
          token_type_hint: tokenType,
          outcome,
          ...(result._tag === "RetryLater" ? { reason: result.detail } : {}),
        })
      }
      return result
    })

  const enqueue = (
    integration: Integration,
    tokenType: RevocableToken,
    token: Redacted.Redacted<string>,
    failed: Extract<Attempt, { _tag: "RetryLater" }>,
  ) =>
    Effect.gen(function* () {
      const id = randomUUID()
      const ciphertext = yield* cipher.encrypt(token, CipherContexts.revocationToken(id))
      const delay = backoffSeconds(1, failed.retryAfterSeconds)
      yield* sql`
        INSERT INTO revocations (id, integration_id, provider_key, token_type_hint, token,
                                 attempts, next_attempt_at, last_error)
        VALUES (${id}, ${integration.id}, ${integration.providerKey}, ${tokenType}, ${ciphertext},
                1, now() + make_interval(secs => ${delay}), ${failed.detail})`
    })

  const disconnect = (id: string, organizationId?: string | undefined) =>
    Effect.gen(function* () {
      const found = yield* store.find(id, organizationId)
      if (Option.isNone(found)) {
        return yield* new IntegrationNotFound({
          reason: "unknown_id",
          integrationId: id,
          message: `No integration has id ${id}.`,
        })
      }
      const integration = found.value
      if (integration.credentials === undefined) {
        yield* store.markDisconnected(id, integration.statusReason ?? "disconnected")
        return
      }

      const refreshToken = yield* store.decryptRefreshToken(integration)
      const accessToken = yield* store.decryptAccessToken(integration)
      const tokens: Array<[RevocableToken, Redacted.Redacted<string>]> = []
      if (refreshToken !== undefined) tokens.push(["refresh_token", refreshToken])
      tokens.push(["access_token", accessToken])

      const client = yield* clientFor(integration.providerKey, integration.metadata)
      const queued: Array<
        [RevocableToken, Redacted.Redacted<string>, Extract<Attempt, { _tag: "RetryLater" }>]
      > = []
      if (Option.isNone(client)) {
        yield* Effect.logWarning(
          "provider is not configured; tokens deleted without revocation",
        ).pipe(Effect.annotateLogs({ provider: integration.providerKey, integration_id: id }))
      } else {
        for (const [tokenType, token] of tokens) {
          const result = yield* attempt(integration.providerKey, client.value, tokenType, token, {
            integrationId: id,
            organizationId: integration.organizationId,
          })
          if (result._tag === "RetryLater") queued.push([tokenType, token, result])
        }
      }

      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* store.markDisconnected(id, "disconnected")
          for (const [tokenType, token, failed] of queued) {
            yield* enqueue(integration, tokenType, token, failed)
          }
        }),
      )
      if (queued.length > 0) {
        yield* Effect.logInfo("token revocation queued for retry").pipe(
          Effect.annotateLogs({
            integration_id: id,
            provider: integration.providerKey,
            tokens: queued.map(([tokenType]) => tokenType).join(","),
          }),
        )
      }
    }).pipe(Effect.withSpan("Revocations.disconnect", { attributes: { integration_id: id } }))

  const processRow = (row: QueuedRow) =>
    Effect.gen(function* () {
      const drop = (message: string) =>
        Effect.andThen(
          Effect.logWarning(message).pipe(
            Effect.annotateLogs({
              revocation_id: row.id,
              provider: row.provider_key,
              attempts: row.attempts,
            }),
          ),
          Effect.as(sql`DELETE FROM revocations WHERE id = ${row.id}`, "dropped" as const),
        )

      const token = yield* Effect.option(
        cipher.decrypt(row.token, CipherContexts.revocationToken(row.id)),
      )
      if (Option.isNone(token)) return yield* drop("queued revocation cannot be decrypted; dropped")

      const owners =
        row.integration_id === null
          ? []
          : yield* sql<{ metadata: Record<string, unknown>; organization_id: string }>`
              SELECT metadata, organization_id FROM integrations WHERE id = ${row.integration_id}`
      const client = yield* clientFor(row.provider_key, owners[0]?.metadata ?? {})
      if (Option.isNone(client)) return yield* drop("queued revocation has no provider; dropped")

      const result = yield* attempt(
        row.provider_key,
        client.value,
        row.token_type_hint,
        token.value,
        { integrationId: row.integration_id, organizationId: owners[0]?.organization_id ?? "" },
      )
      if (result._tag === "Done") {
        yield* sql`DELETE FROM revocations WHERE id = ${row.id}`
        return "revoked" as const
      }
      if (row.attempts >= MAX_ATTEMPTS) {
        return yield* drop(`token revocation still failing after ${MAX_ATTEMPTS} attempts; dropped`)
      }
      const delay = backoffSeconds(row.attempts, result.retryAfterSeconds)
      yield* sql`
        UPDATE revocations SET next_attempt_at = now() + make_interval(secs => ${delay}),
                               last_error = ${result.detail}, updated_at = now()
        WHERE id = ${row.id}`
      return "retried" as const
    })

  const processDue = (limit: number) =>
    Effect.gen(function* () {
      // Claiming pushes next_attempt_at ahead, so another worker skips the
      // rows while this one calls the provider outside any transaction.
      const rows = yield* sql<QueuedRow>`
        UPDATE revocations SET attempts = attempts + 1,
                               next_attempt_at = now() + make_interval(secs => ${CLAIM_SECONDS}),
                               updated_at = now()
        WHERE id IN (
          SELECT id FROM revocations WHERE next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, integration_id, provider_key, token_type_hint, token, attempts`
      const counts = { revoked: 0, retried: 0, dropped: 0 }
      for (const row of rows) {
        const outcome = yield* processRow(row)
        counts[outcome] += 1
      }
      return counts
    }).pipe(Effect.withSpan("Revocations.processDue"))

  return Revocations.of({ disconnect, processDue })
})
