/** Backoff with full jitter, `Retry-After` parsing and the worst case the claim timeout relies on. */
import { describe, expect, it } from "@effect/vitest"
import {
  parseRetryAfter,
  type RetryPolicy,
  retryDelayMillis,
  worstCaseMillis,
} from "../../src/webhooks/RetrySchedule.ts"

const policy: RetryPolicy = { baseMillis: 1_000, capMillis: 30_000 }

describe("retry schedule", () => {
  it("bounds each wait by the exponential step", () => {
    expect(retryDelayMillis(policy, 1, undefined, () => 0.999)).toBe(999)
    expect(retryDelayMillis(policy, 2, undefined, () => 0.999)).toBe(1998)
    expect(retryDelayMillis(policy, 4, undefined, () => 0.5)).toBe(4000)
    expect(retryDelayMillis(policy, 30, undefined, () => 0.999)).toBe(29_970)
    expect(retryDelayMillis(policy, 3, undefined, () => 0)).toBe(0)
  })

  it("honours Retry-After up to the cap", () => {
    expect(retryDelayMillis(policy, 1, 5_000, () => 0)).toBe(5_000)
    expect(retryDelayMillis(policy, 1, 0, () => 0.5)).toBe(500)
    expect(retryDelayMillis(policy, 1, 3_600_000, () => 0)).toBe(30_000)
  })

  it("parses delay-seconds and HTTP dates", () => {
    const now = Date.parse("2024-01-01T00:00:00Z")
    expect(parseRetryAfter("120", now)).toBe(120_000)
    expect(parseRetryAfter(" 7 ", now)).toBe(7_000)
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now)).toBe(30_000)
    expect(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now)).toBe(0)
    expect(parseRetryAfter("soon", now)).toBeUndefined()
    expect(parseRetryAfter("Monday, 01-Jan-24 00:00:10 GMT", now)).toBe(10_000)
    expect(parseRetryAfter("Mon Jan  1 00:00:20 2024", now)).toBe(20_000)
    // Date.parse alone reads these as years.
    expect(parseRetryAfter("-5", now)).toBeUndefined()
    expect(parseRetryAfter("2030", now)).toBe(2_030_000)
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it("reports the worst case of all attempts", () => {
    expect(worstCaseMillis(policy, 8, 10_000)).toBe(8 * 10_000 + 7 * 30_000)
    expect(worstCaseMillis(policy, 1, 2_000)).toBe(2_000)
  })
})
