/**
 * The associated data of every encrypted column. Writers, readers and key
 * rotation all build contexts here, because a ciphertext decrypts only under
 * the exact table, row id and field it was encrypted with.
 *
 * Row ids that are UUIDs are lowercased, the form Postgres returns, so an id
 * typed in upper case by a caller still names the same row.
 */
import type { CipherContext } from "../crypto/TokenCipher.ts"

export const CipherContexts = {
  /** `providers.client_secret`. */
  providerClientSecret: (providerKey: string): CipherContext => ({
    table: "providers",
    rowId: providerKey,
    field: "client_secret",
  }),

  /** Every element of `providers.webhook_secrets`. */
  providerWebhookSecret: (providerKey: string): CipherContext => ({
    table: "providers",
    rowId: providerKey,
    field: "webhook_secret",
  }),

  /** Every element of `webhook_endpoints.secrets`. */
  webhookEndpointSecret: (endpointId: string): CipherContext => ({
    table: "webhook_endpoints",
    rowId: endpointId.toLowerCase(),
    field: "secret",
  }),

  /** `integration_credentials.access_token`. */
  accessToken: (integrationId: string): CipherContext => ({
    table: "integration_credentials",
    rowId: integrationId.toLowerCase(),
    field: "access_token",
  }),

  /** `integration_credentials.refresh_token`. */
  refreshToken: (integrationId: string): CipherContext => ({
    table: "integration_credentials",
    rowId: integrationId.toLowerCase(),
    field: "refresh_token",
  }),

  /** `revocations.token`. */
  revocationToken: (revocationId: string): CipherContext => ({
    table: "revocations",
    rowId: revocationId.toLowerCase(),
    field: "token",
  }),
} as const
