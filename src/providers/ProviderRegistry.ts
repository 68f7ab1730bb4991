/**
 * An in-memory snapshot of every provider, with secrets decrypted and
 * webhook verifiers prepared, so hot paths such as webhook ingest read a
 * provider with no I/O. Writes through this service refresh the snapshot at
 * once. Each instance also polls a change marker of the `providers` table,
 * so other instances load a change within one poll interval.
 */
import { Context, type Duration, Effect, Layer, Option, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../config/AppConfig.ts"
import type { TokenCipherError } from "../crypto/TokenCipher.ts"
import type { ProviderInUse, ProviderNotFound } from "../oauth/OAuthErrors.ts"
import { buildProvider, type Provider } from "./Provider.ts"
import { ProviderStore, type ProviderWrite, type ProviderWriteError } from "./ProviderStore.ts"

export interface ProviderRegistryShape {
  /** The provider with this key from the snapshot; never does I/O. */
  readonly get: (key: string) => Option.Option<Provider>
  /**
   * Why a stored provider is missing from the snapshot: its secrets do not
   * decrypt, or its configuration no longer builds. `undefined` when the
   * key is in the snapshot or not stored at all.
   */
  readonly problemOf: (key: string) => string | undefined
  /** Every provider in the snapshot, ordered by key. */
  readonly all: () => ReadonlyArray<Provider>
  /** Reloads the snapshot from the table now. */
  readonly reload: Effect.Effect<void, SqlError | TokenCipherError>
  /** Creates or replaces a provider and reloads the snapshot. */
  readonly put: (
    write: ProviderWrite,
  ) => Effect.Effect<{ readonly provider: Provider; readonly created: boolean }, ProviderWriteError>
  /** Deletes a provider and reloads the snapshot. */
  readonly remove: (
    key: string,
  ) => Effect.Effect<void, ProviderNotFound | ProviderInUse | SqlError | TokenCipherError>
}

export interface ProviderRegistryOptions {
  /** How often the change marker is polled. Default 2 seconds. */
  readonly pollInterval?: Duration.Input | undefined
}

export class ProviderRegistry extends Context.Service<ProviderRegistry, ProviderRegistryShape>()(
  "app/providers/ProviderRegistry",
) {
  /** Loads the snapshot during start-up and polls for changes while the layer lives. */
  static readonly layer = (options: ProviderRegistryOptions = {}) =>
    Layer.effect(ProviderRegistry, make(options))
}

const make = (options: ProviderRegistryOptions) =>
  Effect.gen(function* () {
    const store = yield* ProviderStore
    const settings = yield* AppConfig
    const buildOptions = { allowHttpLoopback: settings.allowHttpLoopbackProviders }

    let snapshot = new Map<string, Provider>()
    let ordered: ReadonlyArray<Provider> = []
    let marker: string | undefined
    let problems = new Map<string, string>()

    // A row that no longer builds (a catalog change, or http URLs after
    // ALLOW_HTTP_LOOPBACK_PROVIDERS was turned off) is left out and logged,
    // so one bad provider does not stop the others.
    const load = Effect.gen(function* () {
      const nextMarker = yield* store.changeMarker
      const { sources, unreadable } = yield* store.loadAll
      const providers: Array<Provider> = []
      const nextProblems = new Map(unreadable.map((row) => [row.key, row.problem]))
      for (const source of sources) {
        const built = yield* Effect.result(buildProvider(source, buildOptions))
        if (built._tag === "Success") {
          providers.push(built.success)
          continue
        }
        nextProblems.set(source.key, built.failure.message)
        if (problems.get(source.key) === built.failure.message) continue
        yield* Effect.logError("stored provider is invalid and was skipped").pipe(
          Effect.annotateLogs({ provider: source.key, error: built.failure.message }),
        )
      }
      problems = nextProblems
      snapshot = new Map(providers.map((provider) => [provider.key, provider]))
      ordered = providers
      marker = nextMarker
    })

    const reload = load.pipe(Effect.withSpan("ProviderRegistry.reload"))

    let pollFailing = false
    const poll = Effect.gen(function* () {
      const current = yield* store.changeMarker
      if (current !== marker) yield* load
      if (pollFailing) yield* Effect.logInfo("provider registry poll recovered")
      pollFailing = false
    }).pipe(
      Effect.catch((error) => {
        // Logged once per outage; the snapshot stays as it was meanwhile.
        const log = pollFailing
          ? Effect.void
          : Effect.logWarning("provider registry poll failed; keeping the last snapshot", error)
        pollFailing = true
        return log
      }),
    )

    // The write is stored even when this reload fails; the next poll loads it.
    const reloadAfterWrite = reload.pipe(
      Effect.catch((error) =>
        Effect.logWarning("reloading providers after a write failed; the next poll retries", error),
      ),
    )

    yield* reload
    yield* Effect.forkScoped(
      Effect.repeat(poll, Schedule.spaced(options.pollInterval ?? "2 seconds")),
    )

    return ProviderRegistry.of({
      get: (key) => Option.fromNullishOr(snapshot.get(key)),
      problemOf: (key) => problems.get(key),
      all: () => ordered,
      reload,
      put: (write) => Effect.tap(store.put(write), () => reloadAfterWrite),
      remove: (key) => Effect.andThen(store.remove(key), reloadAfterWrite),
    })
  })
