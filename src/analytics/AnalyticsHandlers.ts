import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../auth/Principal.ts"
import { Api } from "../http/Api.ts"
import { apiError } from "../http/ApiErrors.ts"
import { orApiError } from "../http/ErrorMapping.ts"
import { ClickHouse } from "./ClickHouse.ts"
import { oauthStats, type StatsFilter, webhookStats } from "./Queries.ts"

const DEFAULT_RANGE_MS = 24 * 60 * 60 * 1000

interface StatsQueryInput {
  readonly from?: string | undefined
  readonly to?: string | undefined
  readonly interval?: "minute" | "hour" | "day" | undefined
  readonly provider?: string | undefined
  readonly organization_id?: string | undefined
}

const parseTime = (name: string, value: string | undefined, fallback: Date) => {
  if (value === undefined) return Effect.succeed(fallback)
  const time = new Date(value)
  return Number.isNaN(time.getTime())
    ? Effect.fail(
        apiError(
          400,
          "invalid_request",
          `${name}=${JSON.stringify(value)} is not an ISO 8601 time.`,
        ),
      )
    : Effect.succeed(time)
}

/** Builds the query filter; an organization-scoped key is confined to its organization. */
const toFilter = (query: StatsQueryInput) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const to = yield* parseTime("to", query.to, new Date())
    const from = yield* parseTime("from", query.from, new Date(to.getTime() - DEFAULT_RANGE_MS))
    const organizationId =
      principal.kind === "organization" ? principal.organizationId : query.organization_id
    const filter: StatsFilter = {
      interval: query.interval ?? "hour",
      from,
      to,
      ...(query.provider === undefined ? {} : { provider: query.provider }),
      ...(organizationId === undefined ? {} : { organization_id: organizationId }),
    }
    return filter
  })

export const AnalyticsHandlers = HttpApiBuilder.group(Api, "analytics", (handlers) =>
  Effect.gen(function* () {
    const clickhouse = yield* ClickHouse
    const withClickHouse = <A, E>(effect: Effect.Effect<A, E, ClickHouse>) =>
      orApiError(Effect.provideService(effect, ClickHouse, clickhouse))
    return handlers
      .handle("webhooks", ({ query }) =>
        Effect.gen(function* () {
          const filter = yield* toFilter(query)
          return { data: yield* withClickHouse(webhookStats(filter)) }
        }),
      )
      .handle("oauth", ({ query }) =>
        Effect.gen(function* () {
          const filter = yield* toFilter(query)
          return { data: yield* withClickHouse(oauthStats(filter)) }
        }),
      )
  }),
)
