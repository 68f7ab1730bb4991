import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { Migrator } from "../../../src/storage/Migrator.ts"
import {
  incrementWebhookCounters,
  incrementWebhookRejections,
} from "../../../src/storage/queries/WebhookCounters.ts"
import { BACKENDS } from "./backends.ts"

interface CounterRow {
  readonly provider_key: string
  readonly endpoint_id: string
  readonly received: bigint
  readonly accepted: bigint
  readonly rejected: bigint
  readonly duplicates: bigint
  readonly delivered: bigint
  readonly failed: bigint
  readonly dead_lettered: bigint
}

const countersOf = (providerKey: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    return yield* sql<CounterRow>`SELECT provider_key, endpoint_id, received, accepted, rejected,
        duplicates, delivered, failed, dead_lettered
      FROM webhook_counters WHERE provider_key = ${providerKey} ORDER BY endpoint_id`
  })

for (const backend of BACKENDS) {
  const migrated = Layer.effectDiscard(Migrator.run()).pipe(Layer.provideMerge(backend.layer()))

  layer(migrated, { excludeTestServices: true })(`webhook counters on ${backend.name}`, (it) => {
    it.effect("inserts new rows and adds to existing ones", () =>
      Effect.gen(function* () {
        yield* incrementWebhookCounters([
          { providerKey: "slack", received: 2, accepted: 2 },
          { providerKey: "slack", endpointId: "ep-1", received: 1, rejected: 1 },
        ])
        yield* incrementWebhookCounters([
          { providerKey: "slack", received: 3, accepted: 1, duplicates: 2, deadLettered: 1 },
        ])

        const rows = yield* countersOf("slack")
        expect(rows).toEqual([
          {
            provider_key: "slack",
            endpoint_id: "",
            received: 5n,
            accepted: 3n,
            rejected: 0n,
            duplicates: 2n,
            delivered: 0n,
            failed: 0n,
            dead_lettered: 1n,
          },
          {
            provider_key: "slack",
            endpoint_id: "ep-1",
            received: 1n,
            accepted: 0n,
            rejected: 1n,
            duplicates: 0n,
            delivered: 0n,
            failed: 0n,
            dead_lettered: 0n,
          },
        ])
      }),
    )

    it.effect("sums rows with the same key within one batch", () =>
      Effect.gen(function* () {
        yield* incrementWebhookCounters([
          { providerKey: "github", endpointId: "", delivered: 1 },
          { providerKey: "github", delivered: 2, failed: 1 },
          { providerKey: "github", endpointId: "", delivered: 4 },
        ])
        const [row] = yield* countersOf("github")
        expect(row?.delivered).toBe(7n)
        expect(row?.failed).toBe(1n)
      }),
    )

    it.effect("loses no count under concurrent batches", () =>
      Effect.gen(function* () {
        const batch = [
          { providerKey: "stripe", received: 1, accepted: 1 },
          { providerKey: "stripe", endpointId: "ep-a", received: 2 },
          { providerKey: "stripe", endpointId: "ep-b", received: 3 },
        ]
        yield* Effect.all(
          Array.from({ length: 30 }, (_, i) =>
            incrementWebhookCounters(i % 2 === 0 ? batch : [...batch].reverse()),
          ),
          { concurrency: 10 },
        )

        const rows = yield* countersOf("stripe")
        expect(rows.map((row) => [row.endpoint_id, row.received])).toEqual([
          ["", 30n],
          ["ep-a", 60n],
          ["ep-b", 90n],
        ])
        expect(rows[0]?.accepted).toBe(30n)
      }),
    )

    it.effect("accepts counts beyond 32 bits", () =>
      Effect.gen(function* () {
        yield* incrementWebhookCounters([{ providerKey: "big", received: 2 ** 33, accepted: 1 }])
        const [row] = yield* countersOf("big")
        expect(row?.received).toBe(2n ** 33n)
      }),
    )

    it.effect("does nothing for an empty batch", () =>
      Effect.gen(function* () {
        yield* incrementWebhookCounters([])
        yield* incrementWebhookRejections([])
        const rows = yield* countersOf("none")
        expect(rows).toEqual([])
      }),
    )

    it.effect("counts rejections by reason", () =>
      Effect.gen(function* () {
        yield* incrementWebhookRejections([
          { providerKey: "shopify", reason: "signature_mismatch", count: 2 },
          { providerKey: "shopify", reason: "signature_mismatch", count: 1 },
          { providerKey: "shopify", endpointId: "ep-1", reason: "stale_timestamp", count: 1 },
        ])
        yield* incrementWebhookRejections([
          { providerKey: "shopify", reason: "signature_mismatch", count: 4 },
        ])

        const sql = yield* SqlClient
        const rows = yield* sql<{ endpoint_id: string; reason: string; count: bigint }>`
          SELECT endpoint_id, reason, count FROM webhook_rejections
          WHERE provider_key = 'shopify' ORDER BY endpoint_id, reason`
        expect(rows).toEqual([
          { endpoint_id: "", reason: "signature_mismatch", count: 7n },
          { endpoint_id: "ep-1", reason: "stale_timestamp", count: 1n },
        ])
      }),
    )
  })
}
