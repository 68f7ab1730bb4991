/**
 * Analytics events of the OAuth flows: each flow start and callback, code
 * exchange, refresh and revocation, in the shapes of src/analytics/Events.ts.
 * Events carry ids, outcomes and durations, never a token, code or state.
 */
import { randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer } from "effect"
import { AnalyticsEvents } from "../analytics/AnalyticsEvents.ts"
import type {
  AnalyticsEvent,
  OAuthFlowEvent,
  RevocationEvent,
  TokenExchangeEvent,
  TokenRefreshEvent,
} from "../analytics/Events.ts"

type WithoutEnvelope<E> = E extends unknown ? Omit<E, "event_id" | "time"> : never

/** An OAuth event before `OAuthEvents` stamps its id and time. */
export type OAuthEvent = WithoutEnvelope<
  OAuthFlowEvent | TokenExchangeEvent | TokenRefreshEvent | RevocationEvent
>

export class OAuthEvents extends Context.Service<
  OAuthEvents,
  { readonly emit: (event: OAuthEvent) => Effect.Effect<void> }
>()("app/oauth/OAuthEvents") {
  /** Stamps each event and hands it to `sink`; a failing sink never fails the flow. */
  static readonly layerWith = (sink: (event: AnalyticsEvent) => Effect.Effect<void, unknown>) =>
    Layer.succeed(OAuthEvents, {
      emit: (event) =>
        Effect.gen(function* () {
          const time = yield* Clock.currentTimeMillis
          const stamped = { ...event, event_id: randomUUID(), time } as AnalyticsEvent
          yield* sink(stamped)
        }).pipe(Effect.catchCause((cause) => Effect.logWarning("analytics event dropped", cause))),
    })

  /** Appends each event to the analytics stream through `AnalyticsEvents`. */
  static readonly layer = Layer.unwrap(
    AnalyticsEvents.useSync((analytics) => OAuthEvents.layerWith(analytics.emit)),
  )
}
