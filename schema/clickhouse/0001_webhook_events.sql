-- Webhook outcomes: one raw row per event, and per-minute and per-hour
-- aggregate states filled by materialized views.
--
-- Every table keeps the hashes of its last 10,000 inserted blocks, so an
-- insert retried with the same insert_deduplication_token is dropped by the
-- raw table and by each view's target table. ReplacingMergeTree also folds
-- rows with the same (provider, organization_id, time, event_id) during
-- merges, which removes an event that reached the table in two different
-- batches. The event_ids states count distinct event ids, so the aggregate
-- counts ignore such repeats at once.
--
-- quantilesDD(0.01, ...) states are DDSketch sketches with 1 % relative
-- accuracy; a query may merge them with any levels.
--
-- The migrator sets each table's TTL from its retention settings.

CREATE TABLE IF NOT EXISTS webhook_events
(
    event_id UUID,
    time DateTime64(3, 'UTC'),
    provider LowCardinality(String),
    organization_id String,
    integration_id String,
    endpoint_id String,
    outcome LowCardinality(String),
    reason LowCardinality(String),
    delivery_id String,
    ack_ms Nullable(Float64),
    processing_ms Nullable(Float64),
    attempt UInt16
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (provider, organization_id, time, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS webhook_stats_1m
(
    bucket DateTime('UTC'),
    provider LowCardinality(String),
    organization_id String,
    outcome LowCardinality(String),
    inserted_rows SimpleAggregateFunction(sum, UInt64),
    event_ids AggregateFunction(uniqExact, UUID),
    ack_ms_quantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64),
    processing_ms_quantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS webhook_stats_1m_mv TO webhook_stats_1m AS
SELECT
    toStartOfMinute(time) AS bucket,
    provider,
    organization_id,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(ack_ms), isNotNull(ack_ms))
        AS ack_ms_quantiles,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(processing_ms), isNotNull(processing_ms))
        AS processing_ms_quantiles
FROM webhook_events
GROUP BY bucket, provider, organization_id, outcome;

CREATE TABLE IF NOT EXISTS webhook_stats_1h AS webhook_stats_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (provider, organization_id, bucket, outcome)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS webhook_stats_1h_mv TO webhook_stats_1h AS
SELECT
    toStartOfHour(time) AS bucket,
    provider,
    organization_id,
    outcome,
    count() AS inserted_rows,
    uniqExactState(event_id) AS event_ids,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(ack_ms), isNotNull(ack_ms))
        AS ack_ms_quantiles,
    quantilesDDStateIf(0.01, 0.5, 0.95, 0.99)(assumeNotNull(processing_ms), isNotNull(processing_ms))
        AS processing_ms_quantiles
FROM webhook_events
GROUP BY bucket, provider, organization_id, outcome;
