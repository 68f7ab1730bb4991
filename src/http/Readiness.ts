/** The store checks behind `GET /ready`, one per configured store. */
import { Context, Duration, Effect, Layer } from "effect"

export interface StoreCheck {
  /** Store name in the `/ready` body: postgres, redis, clickhouse. */
  readonly name: string
  /** Mode of the store, for example "server 127.0.0.1:5432/test" or "embedded PGlite". */
  readonly mode: string
  readonly check: Effect.Effect<void, unknown>
}

export interface StoreStatus {
  readonly mode: string
  readonly status: "up" | "down"
  readonly latency_ms: number
  readonly error?: string
}

export class Readiness extends Context.Service<
  Readiness,
  {
    readonly checks: ReadonlyArray<StoreCheck>
    /** Set once shutdown starts, so load balancers stop sending traffic. */
    readonly draining: { value: boolean }
  }
>()("app/Readiness") {
  static readonly layer = (checks: ReadonlyArray<StoreCheck>) =>
    Layer.succeed(Readiness, { checks, draining: { value: false } })
}

const CHECK_TIMEOUT = Duration.seconds(2)

const errorText = (error: unknown): string => {
  const tag = (error as { _tag?: string })?._tag
  const message = error instanceof Error ? error.message : String(error)
  return tag ? `${tag}: ${message}` : message
}

const runCheck = (check: StoreCheck) =>
  Effect.gen(function* () {
    const startedAt = performance.now()
    const outcome = yield* check.check.pipe(
      Effect.timeoutOrElse({
        duration: CHECK_TIMEOUT,
        orElse: () =>
          Effect.fail(new Error(`no response within ${Duration.format(CHECK_TIMEOUT)}`)),
      }),
      Effect.result,
    )
    const latency = Math.round((performance.now() - startedAt) * 100) / 100
    const status: StoreStatus =
      outcome._tag === "Success"
        ? { mode: check.mode, status: "up", latency_ms: latency }
        : {
            mode: check.mode,
            status: "down",
            latency_ms: latency,
            error: errorText(outcome.failure),
          }
    return [check.name, status] as const
  })

/** Runs every check concurrently; ready only when all stores respond and shutdown has not begun. */
export const checkReadiness = Effect.gen(function* () {
  const readiness = yield* Readiness
  const results = yield* Effect.forEach(readiness.checks, runCheck, { concurrency: "unbounded" })
  const stores = Object.fromEntries(results)
  const ready = !readiness.draining.value && results.every(([, status]) => status.status === "up")
  return { ready, draining: readiness.draining.value, stores }
})
