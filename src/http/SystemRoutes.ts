/** `/health`, `/ready` and `/metrics`: unauthenticated routes for orchestrators and scrapers. */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { checkReadiness } from "./Readiness.ts"

const health = HttpRouter.add(
  "GET",
  "/health",
  HttpServerResponse.jsonUnsafe({ status: "ok" }, { headers: { "cache-control": "no-store" } }),
)

const ready = HttpRouter.add(
  "GET",
  "/ready",
  Effect.map(checkReadiness, (result) =>
    HttpServerResponse.jsonUnsafe(
      {
        status: result.ready ? "ready" : "not_ready",
        draining: result.draining,
        stores: result.stores,
      },
      { status: result.ready ? 200 : 503, headers: { "cache-control": "no-store" } },
    ),
  ),
)

export const SystemRoutes = Layer.mergeAll(
  health,
  ready,
  PrometheusMetrics.layerHttp({ path: "/metrics" }),
)
