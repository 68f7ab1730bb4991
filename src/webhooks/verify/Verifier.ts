import { Effect, type Redacted } from "effect"
import type { WebhookSchemeName } from "./Scheme.ts"
import { WebhookRejected } from "./WebhookRejected.ts"

/** The parts of an HTTP request that verification reads. */
export interface WebhookRequest {
  /**
   * Returns a header value or `null`. Lookup must be case-insensitive, as
   * `Headers#get` is. Verifiers pass lower-case names.
   */
  readonly headers: (name: string) => string | null
  /** The raw request bytes, exactly as received. */
  readonly body: Uint8Array
  /** Receive time in seconds since the Unix epoch. Fractions are ignored. */
  readonly nowSeconds: number
}

/** A reply the ingest route sends as is, without enqueuing the delivery. */
export interface WebhookHandshake {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** Facts about a verified delivery that the route, the dedupe store and the queue need. */
export interface VerifiedDelivery {
  /** Provider-given id to deduplicate on, or `undefined` when the scheme has none. */
  readonly deliveryId: string | undefined
  /** Set for handshakes: reply with it and enqueue nothing. */
  readonly handshake: WebhookHandshake | undefined
  /** Tenant at the provider (team, installation, shop, account, channel). */
  readonly routingKey: string | undefined
  readonly eventType: string | undefined
  /** The signed timestamp, in seconds, for schemes that sign one. */
  readonly timestampSeconds: number | undefined
}

/**
 * Secrets and options of one provider. `secrets` has one entry, or two while
 * a secret is rotated: a delivery signed with either verifies.
 */
export interface VerifierConfig<Options> {
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
  readonly options: Options
}

/** A verifier bound to one configuration, with its keys already derived. */
export type PreparedVerifier = (
  request: WebhookRequest,
) => Effect.Effect<VerifiedDelivery, WebhookRejected>

export interface WebhookVerifier<Options> {
  readonly scheme: WebhookSchemeName
  /**
   * Derives keys and lookup tables once. The configuration must have passed
   * `validateSchemeConfig`, because an invalid one throws here.
   */
  readonly prepare: (config: VerifierConfig<Options>) => PreparedVerifier
  /**
   * Verifies one delivery. Keys are derived on the first call for a config
   * object and reused while the same object is passed again.
   */
  readonly verify: (
    request: WebhookRequest,
    config: VerifierConfig<Options>,
  ) => Effect.Effect<VerifiedDelivery, WebhookRejected>
}

/** Builds a verifier whose `verify` caches `prepare` per config object. */
export const makeWebhookVerifier = <Options>(
  scheme: WebhookSchemeName,
  prepare: (config: VerifierConfig<Options>) => PreparedVerifier,
): WebhookVerifier<Options> => {
  const prepared = new WeakMap<VerifierConfig<Options>, PreparedVerifier>()

  const preparedFor = (config: VerifierConfig<Options>): PreparedVerifier => {
    let verifier = prepared.get(config)
    if (verifier === undefined) {
      verifier = prepare(config)
      prepared.set(config, verifier)
    }
    return verifier
  }

  return {
    scheme,
    prepare,
    verify: (request, config) => Effect.suspend(() => preparedFor(config)(request)),
  }
}

/** Lifts a synchronous check, so HMAC schemes run without scheduling. */
export const fromSyncCheck =
  (check: (request: WebhookRequest) => VerifiedDelivery | WebhookRejected): PreparedVerifier =>
  (request) => {
    let outcome: VerifiedDelivery | WebhookRejected
    try {
      outcome = check(request)
    } catch (defect) {
      return Effect.die(defect)
    }
    return outcome instanceof WebhookRejected ? Effect.fail(outcome) : Effect.succeed(outcome)
  }

/** A delivery with every field unset, to spread scheme-specific fields over. */
export const emptyDelivery: VerifiedDelivery = {
  deliveryId: undefined,
  handshake: undefined,
  routingKey: undefined,
  eventType: undefined,
  timestampSeconds: undefined,
}
