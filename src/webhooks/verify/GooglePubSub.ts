import { Effect } from "effect"
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose"
import { idField, objectField, parseJsonObject, stringField } from "./Payload.ts"
import { requireHeader } from "./RequestHeaders.ts"
import {
  defaultPubSubAlgorithms,
  defaultPubSubClockToleranceSeconds,
  type GooglePubSubOptions,
} from "./Scheme.ts"
import { makeWebhookVerifier, type VerifiedDelivery } from "./Verifier.ts"
import { WebhookRejected, type WebhookRejectionReason } from "./WebhookRejected.ts"

const authorizationHeader = "authorization"

/** Google ID tokens carry either issuer form. */
const googleIssuers = ["https://accounts.google.com", "accounts.google.com"]

// RFC 6750 section 2.1: the scheme name is case-insensitive.
const bearerPattern = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * Maps a jose failure to a rejection. Failures to obtain the key set (fetch,
 * timeout, invalid set) return `undefined`: they are the receiver's fault
 * and become defects, so the route responds with 5xx and Pub/Sub retries.
 */
const rejectionReason = (error: unknown): WebhookRejectionReason | undefined => {
  if (error instanceof errors.JWTExpired) return "token_expired"
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "audience_mismatch"
    if (error.claim === "iss") return "issuer_mismatch"
    return "token_claim_invalid"
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed
  ) {
    return "token_signature_invalid"
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return "token_malformed"
  }
  return undefined
}

/** Checks the Google-specific claims after jose checked signature, aud, iss and exp. */
const checkIdentity = (claims: JWTPayload, email: string): WebhookRejectionReason | undefined => {
  if (claims.email !== email) return "email_mismatch"
  if (claims.email_verified !== true) return "email_unverified"
  return undefined
}

/** Reads the message id of a wrapped push body, which is also sent as `message_id`. */
const readDelivery = (body: Uint8Array): VerifiedDelivery | WebhookRejected => {
  const envelope = parseJsonObject(body)
  const message = objectField(envelope, "message")
  const messageId = idField(message, "messageId") ?? idField(message, "message_id")
  if (messageId === undefined) return WebhookRejected.make("malformed_body")
  return {
    deliveryId: messageId,
    handshake: undefined,
    routingKey: stringField(envelope, "subscription"),
    eventType: undefined,
    timestampSeconds: undefined,
  }
}

/**
 * Google Pub/Sub push with authentication: a Google-signed OIDC token in
 * `Authorization: Bearer`, checked against the key set, the configured
 * audience and service account, a verified email and a Google issuer.
 */
export const GooglePubSubVerifier = makeWebhookVerifier<GooglePubSubOptions>(
  "google-pubsub",
  (config) => {
    const options = config.options
    const keySet =
      typeof options.jwks === "string"
        ? createRemoteJWKSet(new URL(options.jwks))
        : createLocalJWKSet(options.jwks)
    const verifyOptions = {
      audience: options.audience,
      issuer: googleIssuers,
      algorithms: [...(options.algorithms ?? defaultPubSubAlgorithms)],
      clockTolerance: options.clockToleranceSeconds ?? defaultPubSubClockToleranceSeconds,
      requiredClaims: ["exp"],
    }

    return (request) => {
      const authorization = requireHeader(request, authorizationHeader)
      if (authorization instanceof WebhookRejected) return Effect.fail(authorization)
      const token = bearerPattern.exec(authorization)?.[1]
      if (token === undefined) {
        return Effect.fail(WebhookRejected.make("malformed_header", authorizationHeader))
      }

      const verified = Effect.tryPromise({
        try: () =>
          jwtVerify(token, keySet, {
            ...verifyOptions,
            currentDate: new Date(Math.floor(request.nowSeconds) * 1000),
          }),
        catch: (error) => error,
      })

      return verified.pipe(
        Effect.catch((error) => {
          const reason = rejectionReason(error)
          return reason === undefined
            ? Effect.die(error)
            : Effect.fail(WebhookRejected.make(reason, authorizationHeader))
        }),
        Effect.flatMap(({ payload }) => {
          const reason = checkIdentity(payload, options.email)
          if (reason !== undefined) {
            return Effect.fail(WebhookRejected.make(reason, authorizationHeader))
          }
          const delivery = readDelivery(request.body)
          return delivery instanceof WebhookRejected
            ? Effect.fail(delivery)
            : Effect.succeed(delivery)
        }),
      )
    }
  },
)
