/** HTTP server metrics, named after the OpenTelemetry HTTP semantic conventions. */
import { Metric } from "effect"

export const requestsTotal = Metric.counter("http_server_requests_total", {
  description: "HTTP requests served, by method, route and status code",
  incremental: true,
})

export const requestDuration = Metric.histogram("http_server_request_duration_seconds", {
  description: "Time from receiving a request to sending its response",
  boundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
})
