/**
 * Claims provider delivery ids, so a delivery that the provider sends again
 * (a retry after a slow response, a replay) is acknowledged but not queued
 * twice. Only verified deliveries reach it, so a forged request never claims
 * an id.
 */
import { createHash } from "node:crypto"
import { Context, type Duration, Effect, Layer, Schedule } from "effect"
import { KeyValue } from "../storage/KeyValue.ts"
import type { StoreError } from "../storage/StoreError.ts"

/** Ids longer than this are stored as a digest, to bound the key size. */
const maxPlainIdLength = 128

/** Releases still owed to the store are kept up to this many, newest dropped. */
const maxOwedReleases = 10_000

export const dedupKey = (
  provider: string,
  endpointId: string | undefined,
  deliveryId: string,
): string => {
  const id =
    deliveryId.length > maxPlainIdLength
      ? `sha256:${createHash("sha256").update(deliveryId).digest("base64url")}`
      : deliveryId
  return `webhooks:dedup:${provider}:${endpointId ?? ""}:${id}`
}

export interface DeduplicationShape {
  /** Claims the key for the window; `false` when it was claimed before. */
  readonly claim: (key: string) => Effect.Effect<boolean, StoreError>
  /**
   * Gives a claim back after the event could not be queued, so the
   * provider's retry is accepted. A release that fails is retried in the
   * background until the store responds.
   */
  readonly release: (key: string) => Effect.Effect<void>
}

export class Deduplication extends Context.Service<Deduplication, DeduplicationShape>()(
  "app/webhooks/Deduplication",
) {
  static readonly layer = (options: { readonly window: Duration.Input }) =>
    Layer.effect(Deduplication, make(options))
}

const make = (options: { readonly window: Duration.Input }) =>
  Effect.gen(function* () {
    const store = yield* KeyValue
    // Keys whose claim must be given back but whose delete has not reached the
    // store yet. A delivery for one of them is not a duplicate: it is the
    // retry that the failed enqueue asked for.
    const owed = new Set<string>()

    const retryOwed = Effect.suspend(() =>
      Effect.forEach(
        [...owed],
        (key) =>
          store.delete(key).pipe(
            Effect.tap(() => Effect.sync(() => owed.delete(key))),
            Effect.ignore,
          ),
        { discard: true },
      ),
    )
    yield* retryOwed.pipe(Effect.repeat(Schedule.spaced("500 millis")), Effect.forkScoped)

    const claim = (key: string): Effect.Effect<boolean, StoreError> =>
      Effect.flatMap(store.setIfAbsent(key, "1", options.window), (claimed) => {
        if (claimed || !owed.has(key)) return Effect.succeed(claimed)
        owed.delete(key)
        return Effect.as(store.set(key, "1", options.window), true)
      })

    const release = (key: string): Effect.Effect<void> =>
      store.delete(key).pipe(
        Effect.asVoid,
        Effect.catch((error) =>
          Effect.sync(() => {
            if (owed.size < maxOwedReleases) owed.add(key)
          }).pipe(
            Effect.andThen(
              Effect.logWarning("could not release a webhook delivery claim; retrying", error),
            ),
          ),
        ),
      )

    return Deduplication.of({ claim, release })
  })
