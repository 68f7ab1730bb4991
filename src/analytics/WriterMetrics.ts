/** Metrics of the analytics batch writer, labelled by ClickHouse table where one applies. */
import { Metric } from "effect"

export const batchRows = Metric.histogram("analytics_batch_rows", {
  description: "Rows in each batch inserted into ClickHouse",
  boundaries: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000],
})

export const insertDuration = Metric.histogram("analytics_insert_duration_seconds", {
  description: "Duration of each successful ClickHouse batch insert, in seconds",
  boundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
})

export const lag = Metric.histogram("analytics_lag_seconds", {
  description:
    "Age of the oldest event in each batch when its insert succeeded: event time to insert, in seconds",
  boundaries: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
})

export const bufferedEvents = Metric.gauge("analytics_buffered_events", {
  description: "Events read from the stream and not yet acknowledged",
})

export const insertFailures = Metric.counter("analytics_insert_failures_total", {
  description: "Failed ClickHouse batch inserts, by table and error reason; each retry counts",
  incremental: true,
})
