import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { generateKeyRingEntry, parseKeyRing } from "../../../src/crypto/KeyRing.ts"
import { type RotationReport, rotateKeys } from "../../../src/crypto/Rotation.ts"
import {
  type CipherContext,
  makeTokenCipher,
  TokenCipher,
} from "../../../src/crypto/TokenCipher.ts"
import { CipherContexts } from "../../../src/storage/CipherContexts.ts"
import { Migrator } from "../../../src/storage/Migrator.ts"
import { BACKENDS } from "./backends.ts"

const entryA = generateKeyRingEntry("a")
const entryB = generateKeyRingEntry("b")
/** The rotated ring: b is active, a still decrypts. */
const ringBA = Layer.orDie(TokenCipher.layerFromValue(Redacted.make(`${entryB},${entryA}`)))

const CREDENTIALS = 25
const REVOCATIONS = 12
const BATCH_SIZE = 10

/** The cipher of an instance still configured with ring [a]. */
const cipherA = Effect.runSync(Effect.map(parseKeyRing(Redacted.make(entryA)), makeTokenCipher))

const encryptA = (plaintext: string, context: CipherContext) =>
  cipherA.encrypt(Redacted.make(plaintext), context)

/** Stores secrets under key a in every encrypted column, with more rows than one batch. */
const seedUnderKeyA = Effect.gen(function* () {
  const sql = yield* SqlClient
  const providerRows = [
    { key: "slack", secret: "slack-secret", webhook: ["slack-wh-new", "slack-wh-old"] },
    { key: "github", secret: "github-secret", webhook: ["github-wh"] },
  ]
  for (const p of providerRows) {
    const clientSecret = yield* encryptA(p.secret, CipherContexts.providerClientSecret(p.key))
    const webhookSecrets = yield* Effect.forEach(p.webhook, (s) =>
      encryptA(s, CipherContexts.providerWebhookSecret(p.key)),
    )
    yield* sql`INSERT INTO providers (key, client_secret, webhook_secrets)
      VALUES (${p.key}, ${clientSecret}, ${webhookSecrets})`
  }
  yield* sql`INSERT INTO providers (key) VALUES ('no-secrets')`

  for (const [index, count] of [2, 1, 0].entries()) {
    const [row] = yield* sql<{ id: string }>`INSERT INTO webhook_endpoints (provider_key)
      VALUES ('github') RETURNING id::text AS id`
    const secrets = yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) =>
        encryptA(`endpoint-${index}-secret-${i}`, CipherContexts.webhookEndpointSecret(row!.id)),
    )
    if (secrets.length > 0)
      yield* sql`UPDATE webhook_endpoints SET secrets = ${secrets} WHERE id = ${row!.id}`
  }

  for (let i = 0; i < CREDENTIALS; i++) {
    const [row] = yield* sql<{
      id: string
    }>`INSERT INTO integrations (organization_id, provider_key)
      VALUES (${`org-${i}`}, 'slack') RETURNING id::text AS id`
    const id = row!.id
    const access = yield* encryptA(`access-${id}`, CipherContexts.accessToken(id))
    const refresh =
      i % 2 === 0 ? yield* encryptA(`refresh-${id}`, CipherContexts.refreshToken(id)) : null
    yield* sql`INSERT INTO integration_credentials
        (integration_id, access_token, refresh_token, refreshable)
      VALUES (${id}, ${access}, ${refresh}, ${refresh !== null})`
  }

  for (let i = 0; i < REVOCATIONS; i++) {
    const [row] = yield* sql<{
      id: string
    }>`INSERT INTO revocations (provider_key, token_type_hint, token)
      VALUES ('slack', 'refresh_token', 'placeholder') RETURNING id::text AS id`
    const token = yield* encryptA(`revoked-${row!.id}`, CipherContexts.revocationToken(row!.id))
    yield* sql`UPDATE revocations SET token = ${token} WHERE id = ${row!.id}`
  }
})

/** Every stored ciphertext with its context and the plaintext it must still decrypt to. */
const storedSecrets = Effect.gen(function* () {
  const sql = yield* SqlClient
  const secrets: Array<{ ciphertext: string; context: CipherContext }> = []

  const providers = yield* sql<{
    key: string
    client_secret: string | null
    webhook_secrets: string[]
  }>`
    SELECT key, client_secret, webhook_secrets FROM providers`
  for (const p of providers) {
    if (p.client_secret !== null) {
      secrets.push({
        ciphertext: p.client_secret,
        context: CipherContexts.providerClientSecret(p.key),
      })
    }
    for (const s of p.webhook_secrets) {
      secrets.push({ ciphertext: s, context: CipherContexts.providerWebhookSecret(p.key) })
    }
  }
  const endpoints = yield* sql<{ id: string; secrets: string[] }>`
    SELECT id::text AS id, secrets FROM webhook_endpoints`
  for (const e of endpoints) {
    for (const s of e.secrets)
      secrets.push({ ciphertext: s, context: CipherContexts.webhookEndpointSecret(e.id) })
  }
  const credentials = yield* sql<{
    id: string
    access_token: string
    refresh_token: string | null
  }>`
    SELECT integration_id::text AS id, access_token, refresh_token FROM integration_credentials`
  for (const c of credentials) {
    secrets.push({ ciphertext: c.access_token, context: CipherContexts.accessToken(c.id) })
    if (c.refresh_token !== null) {
      secrets.push({ ciphertext: c.refresh_token, context: CipherContexts.refreshToken(c.id) })
    }
  }
  const revocations = yield* sql<{
    id: string
    token: string
  }>`SELECT id::text AS id, token FROM revocations`
  for (const r of revocations)
    secrets.push({ ciphertext: r.token, context: CipherContexts.revocationToken(r.id) })
  return secrets
})

/**
 * Decrypts every stored secret with the rotated ring. Returns the sorted
 * `table/row/field=plaintext` entries and the set of key ids in use.
 */
const snapshot = Effect.gen(function* () {
  const cipher = yield* TokenCipher
  const values: Array<string> = []
  const keyIds = new Set<string | undefined>()
  for (const { ciphertext, context } of yield* storedSecrets) {
    const plaintext = yield* cipher.decrypt(ciphertext, context)
    values.push(`${context.table}/${context.rowId}/${context.field}=${Redacted.value(plaintext)}`)
    keyIds.add(cipher.keyIdOf(ciphertext))
  }
  return { values: values.sort(), keyIds }
})

const rotatedCounts = (report: RotationReport) =>
  Object.fromEntries(report.tables.map((t) => [t.table, [t.rotated, t.remaining]]))

const credentialRow = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const cipher = yield* TokenCipher
    const [row] = yield* sql<{ access_token: string; version: bigint }>`
      SELECT access_token, version FROM integration_credentials WHERE integration_id = ${id}`
    const plaintext = yield* cipher.decrypt(row!.access_token, CipherContexts.accessToken(id))
    return {
      value: Redacted.value(plaintext),
      keyId: cipher.keyIdOf(row!.access_token),
      version: row!.version,
    }
  })

const credentialIds = Effect.gen(function* () {
  const sql = yield* SqlClient
  const rows = yield* sql<{ id: string }>`
    SELECT integration_id::text AS id FROM integration_credentials ORDER BY integration_id`
  return rows.map((row) => row.id)
})

/** Overwrites an access token the way an instance still on ring [a] would. */
const writeUnderKeyA = (sql: SqlClient, id: string, plaintext: string) =>
  Effect.gen(function* () {
    const ciphertext = yield* encryptA(plaintext, CipherContexts.accessToken(id))
    yield* sql`UPDATE integration_credentials
      SET access_token = ${ciphertext}, version = version + 1, updated_at = now()
      WHERE integration_id = ${id}`
  })

for (const backend of BACKENDS) {
  const seeded = Layer.effectDiscard(Effect.andThen(Migrator.run(), seedUnderKeyA)).pipe(
    Layer.provideMerge(backend.layer()),
    Layer.provideMerge(ringBA),
  )

  layer(seeded, { excludeTestServices: true, buildPerTest: true })(
    `key rotation on ${backend.name}`,
    (it) => {
      it.effect("re-encrypts every secret under the active key", () =>
        Effect.gen(function* () {
          const before = yield* snapshot
          expect([...before.keyIds]).toEqual(["a"])

          const report = yield* rotateKeys({ batchSize: BATCH_SIZE })
          expect(report.activeKeyId).toBe("b")
          expect(rotatedCounts(report)).toEqual({
            providers: [2, 0],
            webhook_endpoints: [2, 0],
            integration_credentials: [CREDENTIALS, 0],
            revocations: [REVOCATIONS, 0],
          })

          const after = yield* snapshot
          expect([...after.keyIds]).toEqual(["b"])
          expect(after.values).toEqual(before.values)

          const [first] = yield* credentialIds
          expect((yield* credentialRow(first!)).version).toBe(2n)
        }),
      )

      it.effect("changes nothing on a second run", () =>
        Effect.gen(function* () {
          yield* rotateKeys({ batchSize: BATCH_SIZE })
          const report = yield* rotateKeys({ batchSize: BATCH_SIZE })
          for (const table of report.tables) {
            expect(table.rotated).toBe(0)
            expect(table.remaining).toBe(0)
          }
          const [first] = yield* credentialIds
          expect((yield* credentialRow(first!)).version).toBe(2n)
        }),
      )

      it.effect("keeps updates written between batches", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const ids = yield* credentialIds
          const rotatedEarly = ids[0]!
          const rotatedLate = ids.at(-1)!

          const report = yield* rotateKeys({
            batchSize: BATCH_SIZE,
            onProgress: (progress) =>
              progress.table === "integration_credentials" && progress.batch === 1
                ? Effect.orDie(
                    Effect.andThen(
                      writeUnderKeyA(sql, rotatedEarly, "written-after-batch-1"),
                      writeUnderKeyA(sql, rotatedLate, "written-before-its-batch"),
                    ),
                  )
                : Effect.void,
          })
          expect(rotatedCounts(report).integration_credentials).toEqual([CREDENTIALS, 1])

          const early = yield* credentialRow(rotatedEarly)
          expect(early.value).toBe("written-after-batch-1")
          expect(early.keyId).toBe("a")
          const late = yield* credentialRow(rotatedLate)
          expect(late.value).toBe("written-before-its-batch")
          expect(late.keyId).toBe("b")

          yield* rotateKeys({ batchSize: BATCH_SIZE })
          const again = yield* credentialRow(rotatedEarly)
          expect(again.value).toBe("written-after-batch-1")
          expect(again.keyId).toBe("b")
        }),
      )

      // Holding a row lock while rotation runs needs a second connection. The
      // embedded pool has exactly one, so on PGlite the writer's transaction and
      // a rotation batch can only run one after the other.
      if (backend.name === "postgres") {
        it.effect("skips locked rows and keeps their update", () =>
          Effect.gen(function* () {
            const sql = yield* SqlClient
            const [lockedId] = yield* credentialIds
            const locked = yield* Deferred.make<void>()
            const release = yield* Deferred.make<void>()

            const writer = yield* sql
              .withTransaction(
                Effect.gen(function* () {
                  yield* sql`SELECT 1 FROM integration_credentials
                    WHERE integration_id = ${lockedId!} FOR UPDATE`
                  yield* Deferred.succeed(locked, undefined)
                  yield* Deferred.await(release)
                  yield* writeUnderKeyA(sql, lockedId!, "written-while-locked")
                }),
              )
              .pipe(Effect.forkChild)
            yield* Deferred.await(locked)

            const report = yield* rotateKeys({ batchSize: BATCH_SIZE })
            expect(rotatedCounts(report).integration_credentials).toEqual([CREDENTIALS - 1, 1])

            yield* Deferred.succeed(release, undefined)
            yield* Fiber.join(writer)
            const written = yield* credentialRow(lockedId!)
            expect(written.value).toBe("written-while-locked")
            expect(written.keyId).toBe("a")

            const second = yield* rotateKeys({ batchSize: BATCH_SIZE })
            expect(rotatedCounts(second).integration_credentials).toEqual([1, 0])
            const rotated = yield* credentialRow(lockedId!)
            expect(rotated.value).toBe("written-while-locked")
            expect(rotated.keyId).toBe("b")
          }),
        )
      }
    },
  )
}
