-- Initial schema. The same SQL runs on Postgres 15 and later and on PGlite,
-- so it uses no extensions: gen_random_uuid() is core since Postgres 13.
--
-- Every column marked as a ciphertext contains TokenCipher output. Its associated
-- data binds it to the table, the row id and the field, as listed in
-- src/storage/CipherContexts.ts, so a value copied to another row fails to
-- decrypt. Writers set updated_at = now() in their UPDATE statements; there
-- are no triggers.

-- OAuth applications at third parties, built from a catalog template or given
-- explicitly.
CREATE TABLE providers (
  key text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  -- Catalog template the provider was built from; NULL for an explicit one.
  template text,
  -- Resolved non-secret settings: endpoints, scopes, quirks.
  config jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_id text,
  -- Ciphertext.
  client_secret text,
  -- Ciphertexts, the current secret first; a previous secret stays second
  -- while a secret rotation is in progress.
  webhook_secrets text[] NOT NULL DEFAULT '{}',
  -- Where verified webhook events of this provider are delivered.
  destination_url text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One organization's connection to one provider.
CREATE TABLE integrations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id text NOT NULL CHECK (organization_id <> ''),
  provider_key text NOT NULL REFERENCES providers (key) ON DELETE RESTRICT,
  status text NOT NULL DEFAULT 'connected'
    CHECK (status IN ('connected', 'needs_reauth', 'disconnected')),
  -- Why the status last changed, such as the provider's error code.
  status_reason text,
  scopes text[] NOT NULL DEFAULT '{}',
  -- Provider-side routing key of incoming webhooks: Slack team id, GitHub
  -- installation id, Shopify shop domain.
  external_id text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Extra fields of the token response that the provider catalog lists to keep.
  extra jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, provider_key)
);

-- The list API: WHERE organization_id = $1 AND status = $2 AND id > $cursor
-- ORDER BY id.
CREATE INDEX integrations_organization_status_id_idx
  ON integrations (organization_id, status, id);

-- Per-provider walks, such as marking every integration of a provider.
CREATE INDEX integrations_provider_status_id_idx
  ON integrations (provider_key, status, id);

-- Webhook routing: WHERE provider_key = $1 AND external_id = $2.
CREATE INDEX integrations_provider_external_id_idx
  ON integrations (provider_key, external_id)
  WHERE external_id IS NOT NULL;

-- The tokens of one integration.
CREATE TABLE integration_credentials (
  integration_id uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
  -- Ciphertext.
  access_token text NOT NULL,
  -- Ciphertext; NULL when the provider issued no refresh token.
  refresh_token text,
  token_type text,
  -- NULL for a token that does not expire.
  expires_at timestamptz,
  -- True while the integration is connected and a refresh token exists. The
  -- background refresher only visits these rows.
  refreshable boolean NOT NULL,
  -- When the provider issued the stored tokens, by code exchange or refresh.
  refreshed_at timestamptz NOT NULL DEFAULT now(),
  -- Incremented by every write. A worker that read version n and finds
  -- another number can tell that another worker rotated the tokens meanwhile.
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (refresh_token IS NOT NULL OR NOT refreshable)
);

-- Refresher: WHERE refreshable AND expires_at < $1 ORDER BY expires_at.
CREATE INDEX integration_credentials_expires_at_idx
  ON integration_credentials (expires_at)
  WHERE refreshable;

-- Keep-alive refresh of refresh tokens that lapse when unused:
-- WHERE refreshable AND refreshed_at < $1 ORDER BY refreshed_at.
CREATE INDEX integration_credentials_refreshed_at_idx
  ON integration_credentials (refreshed_at)
  WHERE refreshable;

-- Webhook receiving endpoints with their own secrets, for providers that sign
-- per app installation or per subscription.
CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider_key text NOT NULL REFERENCES providers (key) ON DELETE RESTRICT,
  integration_id uuid REFERENCES integrations (id) ON DELETE CASCADE,
  -- Ciphertexts, the current secret first.
  secrets text[] NOT NULL DEFAULT '{}',
  options jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_endpoints_provider_key_idx ON webhook_endpoints (provider_key);

-- Serves the ON DELETE CASCADE from integrations.
CREATE INDEX webhook_endpoints_integration_id_idx
  ON webhook_endpoints (integration_id)
  WHERE integration_id IS NOT NULL;

-- Running webhook totals per provider and endpoint. Change them only with the
-- INSERT ... ON CONFLICT DO UPDATE of src/storage/queries/WebhookCounters.ts,
-- which adds deltas, so concurrent writers lose no count. endpoint_id is ''
-- for a provider-wide endpoint.
CREATE TABLE webhook_counters (
  provider_key text NOT NULL,
  endpoint_id text NOT NULL DEFAULT '',
  received bigint NOT NULL DEFAULT 0,
  accepted bigint NOT NULL DEFAULT 0,
  rejected bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  delivered bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  dead_lettered bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_key, endpoint_id)
);

-- Rejected webhooks by reason, such as signature_mismatch or stale_timestamp.
CREATE TABLE webhook_rejections (
  provider_key text NOT NULL,
  endpoint_id text NOT NULL DEFAULT '',
  reason text NOT NULL,
  count bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_key, endpoint_id, reason)
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  -- SHA-256 of the whole key; the key itself is never stored.
  key_hash bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  -- First 8 characters of the key, shown so a user can tell keys apart.
  key_prefix text NOT NULL,
  organization_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- Token revocations (RFC 7009) still to be sent to a provider, retried with
-- backoff. integration_id has no foreign key because the integration is
-- usually deleted by the time the revocation runs.
CREATE TABLE revocations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  integration_id uuid,
  provider_key text NOT NULL,
  token_type_hint text NOT NULL CHECK (token_type_hint IN ('access_token', 'refresh_token')),
  -- Ciphertext.
  token text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Worker: WHERE next_attempt_at <= now() ORDER BY next_attempt_at.
CREATE INDEX revocations_next_attempt_at_idx ON revocations (next_attempt_at);
