/**
 * The `ClickHouse` service: one interface over embedded chDB and a ClickHouse
 * server, running the same SQL. Without a URL the service opens chDB under
 * `<dataDir>/chdb`; with one it talks HTTP to that server. Building the layer
 * applies the schema migrations, so a service that starts can write.
 */
import { Context, type Duration, Effect, Layer, type Redacted } from "effect"
import * as ChdbAdapter from "./ChdbAdapter.ts"
import type { ClickHouseShape } from "./ClickHouseAdapter.ts"
import type { ClickHouseError } from "./ClickHouseError.ts"
import * as HttpAdapter from "./HttpAdapter.ts"
import { type MigrationError, migrate } from "./Migrator.ts"

export type { ClickHouseShape, InsertOptions, QueryParams } from "./ClickHouseAdapter.ts"
export { ClickHouseError } from "./ClickHouseError.ts"

export class ClickHouse extends Context.Service<ClickHouse, ClickHouseShape>()(
  "app/analytics/ClickHouse",
) {}

export interface ClickHouseOptions {
  /** A ClickHouse server's HTTP(S) URL; `undefined` selects embedded chDB. */
  readonly url: Redacted.Redacted<string> | undefined
  /** The service's data directory; chDB keeps its files in `<dataDir>/chdb`. */
  readonly dataDir: string
  /** Days to keep raw events and per-minute aggregates. */
  readonly ttlDays: number
  /** Days to keep per-hour aggregates; 730 when absent. */
  readonly hourlyTtlDays?: number
  /** Timeout of one request; 30 seconds when absent. */
  readonly requestTimeout?: Duration.Input
}

export const DEFAULT_HOURLY_TTL_DAYS = 730
export const DEFAULT_REQUEST_TIMEOUT: Duration.Input = "30 seconds"

/** Opens the adapter that `options.url` selects, without touching the schema. */
export const makeAdapter = (options: ClickHouseOptions) => {
  const requestTimeout = options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT
  return options.url === undefined
    ? ChdbAdapter.make({ dataDir: options.dataDir, requestTimeout })
    : HttpAdapter.make({ url: options.url, requestTimeout })
}

/** Provides `ClickHouse` after applying the migrations and TTL settings. */
export const layer = (
  options: ClickHouseOptions,
): Layer.Layer<ClickHouse, ClickHouseError | MigrationError> =>
  Layer.effect(
    ClickHouse,
    Effect.gen(function* () {
      const clickhouse = yield* makeAdapter(options)
      yield* migrate(clickhouse, {
        ttlDays: options.ttlDays,
        hourlyTtlDays: options.hourlyTtlDays ?? DEFAULT_HOURLY_TTL_DAYS,
      })
      return clickhouse
    }),
  )
