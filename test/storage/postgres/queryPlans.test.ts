/**
 * The hot queries of the service must use their indexes. Each test runs
 * `EXPLAIN (FORMAT JSON)` with real parameter values on tables seeded with
 * enough rows that a sequential scan would cost more, after `ANALYZE`, and
 * looks for an index scan on the expected index anywhere in the plan.
 * `enable_seqscan` stays on, so the planner chooses freely.
 */
import { createHash } from "node:crypto"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { Migrator } from "../../../src/storage/Migrator.ts"
import { counterUpsert } from "../../../src/storage/queries/WebhookCounters.ts"
import { BACKENDS } from "./backends.ts"

const INDEX_SCANS = new Set(["Index Scan", "Index Only Scan", "Bitmap Index Scan"])

interface PlanNode {
  readonly "Node Type": string
  readonly "Index Name"?: string
  readonly "Conflict Arbiter Indexes"?: ReadonlyArray<string>
  readonly Plans?: ReadonlyArray<PlanNode>
}

const planNodes = (node: PlanNode): ReadonlyArray<PlanNode> => [
  node,
  ...(node.Plans ?? []).flatMap(planNodes),
]

/** Returns the root node of the one plan that `EXPLAIN (FORMAT JSON)` returns. */
const planRoot = (rows: ReadonlyArray<Record<string, unknown>>): PlanNode => {
  const explained = rows[0]?.["QUERY PLAN"] as
    | ReadonlyArray<{ readonly Plan: PlanNode }>
    | undefined
  assert(explained?.[0] !== undefined, "EXPLAIN returned no plan")
  return explained[0].Plan
}

/** Returns the names of the indexes that the plan scans, in plan order. */
const scannedIndexes = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<string> => {
  return planNodes(planRoot(rows))
    .filter((node) => INDEX_SCANS.has(node["Node Type"]) && node["Index Name"] !== undefined)
    .map((node) => node["Index Name"]!)
}

const ORGANIZATIONS = 400
const PROVIDERS = 50

/**
 * Seeds 20,000 integrations (400 organizations with 50 providers each), one
 * credentials row each, 5,000 API keys and 5,000 revocations, then analyzes.
 */
const seed = Effect.gen(function* () {
  yield* Migrator.run()
  const sql = yield* SqlClient
  yield* sql`INSERT INTO providers (key)
    SELECT 'provider-' || g FROM generate_series(1, ${PROVIDERS}) AS g`
  yield* sql`INSERT INTO integrations (organization_id, provider_key, status, external_id)
    SELECT 'org-' || (g / ${PROVIDERS}), 'provider-' || (g % ${PROVIDERS} + 1),
      (ARRAY['connected', 'needs_reauth', 'disconnected'])[g % 3 + 1], 'team-' || g
    FROM generate_series(0, ${ORGANIZATIONS * PROVIDERS - 1}) AS g`
  yield* sql`INSERT INTO integration_credentials (integration_id, access_token, refresh_token,
      expires_at, refreshable, refreshed_at)
    SELECT id, 'v1:a:access', CASE WHEN n % 2 = 0 THEN 'v1:a:refresh' END,
      now() + (n % 1440) * interval '1 minute', n % 2 = 0, now() - (n % 90) * interval '1 day'
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM integrations) AS numbered`
  yield* sql`INSERT INTO api_keys (name, key_hash, key_prefix, organization_id)
    SELECT 'key ' || g, sha256(convert_to('key-' || g, 'UTF8')), 'key-' || g, 'org-' || (g % 400)
    FROM generate_series(1, 5000) AS g`
  yield* sql`INSERT INTO revocations (integration_id, provider_key, token_type_hint, token,
      next_attempt_at)
    SELECT gen_random_uuid(), 'provider-1', 'refresh_token', 'v1:a:token',
      now() + (g % 1000 - 10) * interval '1 minute'
    FROM generate_series(1, 5000) AS g`
  yield* sql`INSERT INTO webhook_counters (provider_key, endpoint_id)
    SELECT 'provider-' || (g % ${PROVIDERS}), 'endpoint-' || g FROM generate_series(1, 5000) AS g`
  yield* sql`ANALYZE`
})

const anyIntegration = Effect.gen(function* () {
  const sql = yield* SqlClient
  const rows = yield* sql<{ id: string }>`SELECT id FROM integrations
    WHERE organization_id = 'org-7' AND provider_key = 'provider-3'`
  return rows[0]!.id
})

for (const backend of BACKENDS) {
  const seeded = Layer.effectDiscard(seed).pipe(Layer.provideMerge(backend.layer()))

  layer(seeded, { excludeTestServices: true, timeout: "120 seconds" })(
    `query plans on ${backend.name}`,
    (it) => {
      it.effect("credential lookup by integration id", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const id = yield* anyIntegration
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT access_token, refresh_token,
              token_type, expires_at, refreshable, version
            FROM integration_credentials WHERE integration_id = ${id}`
          expect(scannedIndexes(plan)).toContain("integration_credentials_pkey")
        }),
      )

      it.effect("refresher walk by expiry", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const due = new Date(Date.now() + 5 * 60_000)
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT integration_id, expires_at
            FROM integration_credentials
            WHERE refreshable AND expires_at < ${due}
            ORDER BY expires_at LIMIT ${100}`
          expect(scannedIndexes(plan)).toContain("integration_credentials_expires_at_idx")
        }),
      )

      it.effect("keep-alive walk by last refresh", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const stale = new Date(Date.now() - 80 * 86_400_000)
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT integration_id, refreshed_at
            FROM integration_credentials
            WHERE refreshable AND refreshed_at < ${stale}
            ORDER BY refreshed_at LIMIT ${100}`
          expect(scannedIndexes(plan)).toContain("integration_credentials_refreshed_at_idx")
        }),
      )

      it.effect("integration list by organization, status and cursor", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const cursor = "00000000-0000-0000-0000-000000000000"
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT id, provider_key, status, scopes
            FROM integrations
            WHERE organization_id = ${"org-7"} AND status = ${"connected"} AND id > ${cursor}
            ORDER BY id LIMIT ${50}`
          expect(scannedIndexes(plan)).toContain("integrations_organization_status_id_idx")
        }),
      )

      it.effect("integration by id", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const id = yield* anyIntegration
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT * FROM integrations WHERE id = ${id}`
          expect(scannedIndexes(plan)).toContain("integrations_pkey")
        }),
      )

      it.effect("webhook routing by provider and external id", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT id, organization_id, status
            FROM integrations WHERE provider_key = ${"provider-3"} AND external_id = ${"team-102"}`
          expect(scannedIndexes(plan)).toContain("integrations_provider_external_id_idx")
        }),
      )

      it.effect("api key by hash", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const hash = new Uint8Array(createHash("sha256").update("key-42").digest())
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT id, organization_id, revoked_at
            FROM api_keys WHERE key_hash = ${hash}`
          expect(scannedIndexes(plan)).toContain("api_keys_key_hash_key")
        }),
      )

      it.effect("revocations due", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const plan = yield* sql`EXPLAIN (FORMAT JSON) SELECT id, provider_key, token
            FROM revocations WHERE next_attempt_at <= ${new Date()}
            ORDER BY next_attempt_at LIMIT ${100}`
          expect(scannedIndexes(plan)).toContain("revocations_next_attempt_at_idx")
        }),
      )

      it.effect("webhook counter upsert", () =>
        Effect.gen(function* () {
          const sql = yield* SqlClient
          const [text, params] = counterUpsert(sql, [
            { providerKey: "provider-1", endpointId: "endpoint-1", received: 3, accepted: 2 },
            { providerKey: "provider-2", received: 1, rejected: 1 },
          ]).compile()
          const plan = yield* sql.unsafe<Record<string, unknown>>(
            `EXPLAIN (FORMAT JSON) ${text}`,
            params,
          )

          const modify = planNodes(planRoot(plan)).find(
            (node) => node["Node Type"] === "ModifyTable",
          )
          expect(modify?.["Conflict Arbiter Indexes"]).toEqual(["webhook_counters_pkey"])
        }),
      )
    },
  )
}

describe("scannedIndexes", () => {
  it("finds index scans below other nodes", () => {
    const plan = [
      {
        "QUERY PLAN": [
          {
            Plan: {
              "Node Type": "Limit",
              Plans: [{ "Node Type": "Index Scan", "Index Name": "some_idx" }],
            },
          },
        ],
      },
    ]
    expect(scannedIndexes(plan)).toEqual(["some_idx"])
  })
})
