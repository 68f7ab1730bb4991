-- Refresh token grants, by what triggered them: a caller asking for a token
-- (`on_demand`), the background refresher before expiry (`background`) or a
-- refresh that only keeps a rarely used grant alive (`keep_alive`).
-- Deduplication and quantile accuracy as in 0001_webhook_events.sql.

CREATE TABLE IF NOT EXISTS token_refresh_events
(
    event_id UUID,
    time DateTime64(3, 'UTC'),
    provider LowCardinality(String),
    organization_id String,
    integration_id String,
    outcome LowCardinality(String),
    reason LowCardinality(String),
    trigger LowCardinality(String),
    refresh_ms Nullable(Float64)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (provider, organization_id, time, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS token_refresh_stats_1m
(
    bucket DateTime('UTC'),
    provider LowCardinality(String),
    organization_id String,
    trigger LowCardinality(String),
    outcome LowCardinality(String),
    inserted_rows SimpleAggregateFunction(sum, UInt64),
    event_ids AggregateFunction(uniqExact, UUID),
    refresh_ms_quantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, trigger, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS token_refresh_stats_1m_mv TO token_refresh_stats_1m AS
SELECT
    toStartOfMinute(time) AS bucket,
    provider,
    organization_id,
    trigger,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(refresh_ms), isNotNull(refresh_ms))
        AS refresh_ms_quantiles
FROM token_refresh_events
GROUP BY bucket, provider, organization_id, trigger, outcome;

CREATE TABLE IF NOT EXISTS token_refresh_stats_1h AS token_refresh_stats_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, trigger, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS token_refresh_stats_1h_mv TO token_refresh_stats_1h AS
SELECT
    toStartOfHour(time) AS bucket,
    provider,
    organization_id,
    trigger,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(refresh_ms), isNotNull(refresh_ms))
        AS refresh_ms_quantiles
FROM token_refresh_events
GROUP BY bucket, provider, organization_id, trigger, outcome;
