-- OAuth authorization flows: a `started` row when the consent redirect is
-- issued and a `callback` row with the outcome when the provider redirects
-- back. Deduplication and quantile accuracy as in 0001_webhook_events.sql.

CREATE TABLE IF NOT EXISTS oauth_flow_events
(
    event_id UUID,
    time DateTime64(3, 'UTC'),
    provider LowCardinality(String),
    organization_id String,
    integration_id String,
    stage LowCardinality(String),
    -- Empty on the `started` stage.
    outcome LowCardinality(String),
    reason LowCardinality(String),
    callback_ms Nullable(Float64)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (provider, organization_id, time, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS oauth_flow_stats_1m
(
    bucket DateTime('UTC'),
    provider LowCardinality(String),
    organization_id String,
    stage LowCardinality(String),
    outcome LowCardinality(String),
    inserted_rows SimpleAggregateFunction(sum, UInt64),
    event_ids AggregateFunction(uniqExact, UUID),
    callback_ms_quantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, stage, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS oauth_flow_stats_1m_mv TO oauth_flow_stats_1m AS
SELECT
    toStartOfMinute(time) AS bucket,
    provider,
    organization_id,
    stage,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(callback_ms), isNotNull(callback_ms))
        AS callback_ms_quantiles
FROM oauth_flow_events
GROUP BY bucket, provider, organization_id, stage, outcome;

CREATE TABLE IF NOT EXISTS oauth_flow_stats_1h AS oauth_flow_stats_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, stage, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS oauth_flow_stats_1h_mv TO oauth_flow_stats_1h AS
SELECT
    toStartOfHour(time) AS bucket,
    provider,
    organization_id,
    stage,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(callback_ms), isNotNull(callback_ms))
        AS callback_ms_quantiles
FROM oauth_flow_events
GROUP BY bucket, provider, organization_id, stage, outcome;
