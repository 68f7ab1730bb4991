/**
 * Acknowledges stream entries in batches. Each caller waits until its own
 * entry is acknowledged, but entries finished within the same short window
 * share one XACK and XDEL, which at high rates costs far less than one
 * transaction per entry.
 */
import { Deferred, type Duration, Effect, type Exit, type Scope } from "effect"

interface Waiter<E> {
  readonly id: string
  readonly done: Deferred.Deferred<void, E>
}

export const makeAckBatcher = <E>(options: {
  /** Acknowledges the ids in one call. */
  readonly flush: (ids: ReadonlyArray<string>) => Effect.Effect<unknown, E>
  /** A batch is sent as soon as it has this many ids. */
  readonly maxBatch: number
  /** Maximum time an id waits for others to join its batch. */
  readonly maxDelay: Duration.Input
}): Effect.Effect<(id: string) => Effect.Effect<void, E>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    let waiting: Array<Waiter<E>> = []
    let timerStarted = false

    const send = Effect.suspend(() => {
      const batch = waiting
      waiting = []
      timerStarted = false
      if (batch.length === 0) return Effect.void
      return options.flush(batch.map((waiter) => waiter.id)).pipe(
        Effect.asVoid,
        Effect.exit,
        Effect.flatMap((exit: Exit.Exit<void, E>) =>
          Effect.sync(() => {
            for (const waiter of batch) Deferred.doneUnsafe(waiter.done, exit)
          }),
        ),
      )
    })

    return (id: string) =>
      Effect.gen(function* () {
        const done = yield* Deferred.make<void, E>()
        waiting.push({ id, done })
        if (waiting.length >= options.maxBatch) {
          yield* Effect.forkIn(send, scope)
        } else if (!timerStarted) {
          timerStarted = true
          yield* Effect.forkIn(Effect.delay(send, options.maxDelay), scope)
        }
        return yield* Deferred.await(done)
      })
  })
