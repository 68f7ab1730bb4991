/** Assertions that compare query rows with the aggregates computed in TypeScript. */
import { expect } from "@effect/vitest"
import type { OAuthStatsRow, WebhookStatsRow } from "../../../src/analytics/Queries.ts"
import type { ExpectedGroup } from "./SyntheticEvents.ts"

/** The relative accuracy of the `quantilesDD(0.01, ...)` states. */
export const SKETCH_RELATIVE_ACCURACY = 0.01

/**
 * Checks a DDSketch percentile: it must lie within the sketch's relative
 * accuracy of the exact value at its rank. For a fractional rank either
 * neighbouring value is accepted, because the sketch picks one of them.
 */
export const expectPercentile = (
  actual: number | null,
  values: ReadonlyArray<number> | undefined,
  level: number,
  label: string,
): void => {
  if (values === undefined || values.length === 0) {
    expect(actual, label).toBeNull()
    return
  }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = level * (sorted.length - 1)
  const lower = sorted[Math.floor(rank)]! * (1 - SKETCH_RELATIVE_ACCURACY)
  const upper = sorted[Math.ceil(rank)]! * (1 + SKETCH_RELATIVE_ACCURACY)
  expect(actual, label).not.toBeNull()
  expect(actual!, label).toBeGreaterThanOrEqual(lower - 1e-9)
  expect(actual!, label).toBeLessThanOrEqual(upper + 1e-9)
}

const WEBHOOK_COUNTS = [
  "received",
  "accepted",
  "rejected",
  "duplicates",
  "delivered",
  "failed",
  "dead_lettered",
] as const

/** Checks every row's counts exactly and its percentiles within the sketch accuracy. */
export const expectWebhookRows = (
  rows: ReadonlyArray<WebhookStatsRow>,
  expected: Map<string, ExpectedGroup>,
): void => {
  expect(rows.map((row) => `${row.bucket}|${row.provider}`).sort()).toEqual(
    [...expected.keys()].sort(),
  )
  for (const row of rows) {
    const key = `${row.bucket}|${row.provider}`
    const group = expected.get(key)!
    for (const name of WEBHOOK_COUNTS) {
      expect(row[name], `${key} ${name}`).toBe(group.counts[name] ?? 0)
    }
    expectPercentile(row.ack_ms_p50, group.latencies.ack_ms, 0.5, `${key} ack p50`)
    expectPercentile(row.ack_ms_p95, group.latencies.ack_ms, 0.95, `${key} ack p95`)
    expectPercentile(row.ack_ms_p99, group.latencies.ack_ms, 0.99, `${key} ack p99`)
    expectPercentile(
      row.processing_ms_p50,
      group.latencies.processing_ms,
      0.5,
      `${key} processing p50`,
    )
    expectPercentile(
      row.processing_ms_p95,
      group.latencies.processing_ms,
      0.95,
      `${key} processing p95`,
    )
    expectPercentile(
      row.processing_ms_p99,
      group.latencies.processing_ms,
      0.99,
      `${key} processing p99`,
    )
  }
}

const OAUTH_COUNTS = [
  "started",
  "connected",
  "denied",
  "failed",
  "refresh_success",
  "refresh_failed",
  "refresh_needs_reauth",
] as const

export const expectOAuthRows = (
  rows: ReadonlyArray<OAuthStatsRow>,
  expected: Map<string, ExpectedGroup>,
): void => {
  expect(rows.map((row) => `${row.bucket}|${row.provider}`).sort()).toEqual(
    [...expected.keys()].sort(),
  )
  for (const row of rows) {
    const key = `${row.bucket}|${row.provider}`
    const group = expected.get(key)!
    for (const name of OAUTH_COUNTS) {
      expect(row[name], `${key} ${name}`).toBe(group.counts[name] ?? 0)
    }
    expectPercentile(row.callback_ms_p50, group.latencies.callback_ms, 0.5, `${key} callback p50`)
    expectPercentile(row.callback_ms_p95, group.latencies.callback_ms, 0.95, `${key} callback p95`)
    expectPercentile(row.callback_ms_p99, group.latencies.callback_ms, 0.99, `${key} callback p99`)
    expectPercentile(row.refresh_ms_p50, group.latencies.refresh_ms, 0.5, `${key} refresh p50`)
    expectPercentile(row.refresh_ms_p95, group.latencies.refresh_ms, 0.95, `${key} refresh p95`)
    expectPercentile(row.refresh_ms_p99, group.latencies.refresh_ms, 0.99, `${key} refresh p99`)
  }
}
