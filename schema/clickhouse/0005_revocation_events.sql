-- Token revocations (RFC 7009). `queued` means the provider was unreachable
-- and the request waits for a retry. Deduplication as in
-- 0001_webhook_events.sql.

CREATE TABLE IF NOT EXISTS revocation_events
(
    event_id UUID,
    time DateTime64(3, 'UTC'),
    provider LowCardinality(String),
    organization_id String,
    integration_id String,
    token_type_hint LowCardinality(String),
    outcome LowCardinality(String),
    reason LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (provider, organization_id, time, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS revocation_stats_1m
(
    bucket DateTime('UTC'),
    provider LowCardinality(String),
    organization_id String,
    token_type_hint LowCardinality(String),
    outcome LowCardinality(String),
    inserted_rows SimpleAggregateFunction(sum, UInt64),
    event_ids AggregateFunction(uniqExact, UUID)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, token_type_hint, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS revocation_stats_1m_mv TO revocation_stats_1m AS
SELECT
    toStartOfMinute(time) AS bucket,
    provider,
    organization_id,
    token_type_hint,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids
FROM revocation_events
GROUP BY bucket, provider, organization_id, token_type_hint, outcome;

CREATE TABLE IF NOT EXISTS revocation_stats_1h AS revocation_stats_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, token_type_hint, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS revocation_stats_1h_mv TO revocation_stats_1h AS
SELECT
    toStartOfHour(time) AS bucket,
    provider,
    organization_id,
    token_type_hint,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids
FROM revocation_events
GROUP BY bucket, provider, organization_id, token_type_hint, outcome;
