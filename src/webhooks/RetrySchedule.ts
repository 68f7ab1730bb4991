/**
 * When to try a failed destination delivery again: exponential backoff with
 * full jitter (a random wait between zero and the exponential bound), never
 * shorter than the destination's `Retry-After` (RFC 9110 section 10.2.3).
 */
import { Context } from "effect"

export interface RetryPolicy {
  /** Upper bound of the first wait. */
  readonly baseMillis: number
  /** Upper bound of any wait, including one asked for by `Retry-After`. */
  readonly capMillis: number
}

export const defaultRetryPolicy: RetryPolicy = { baseMillis: 1_000, capMillis: 30_000 }

/**
 * The policy the workers use, read when they start; a test provides a
 * shorter one to the app layer.
 */
export const DeliveryRetryPolicy = Context.Reference<RetryPolicy>(
  "app/webhooks/DeliveryRetryPolicy",
  { defaultValue: () => defaultRetryPolicy },
)

/**
 * Returns the wait before attempt `failedAttempts + 1`. A `Retry-After`
 * longer than the cap is cut to the cap, so one destination cannot hold an
 * event past the worst case that `worstCaseMillis` reports.
 */
export const retryDelayMillis = (
  policy: RetryPolicy,
  failedAttempts: number,
  retryAfterMillis: number | undefined,
  random: () => number = Math.random,
): number => {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30)
  const bound = Math.min(policy.capMillis, policy.baseMillis * 2 ** exponent)
  const jittered = Math.floor(random() * bound)
  if (retryAfterMillis === undefined) return jittered
  return Math.max(jittered, Math.min(retryAfterMillis, policy.capMillis))
}

/**
 * Returns the longest time all attempts of one event can take, with each
 * attempt bounded by `timeoutMillis`. Every wait is at most the cap, because
 * `Retry-After` may raise a wait up to it.
 */
export const worstCaseMillis = (
  policy: RetryPolicy,
  maxAttempts: number,
  timeoutMillis: number,
): number => maxAttempts * timeoutMillis + (maxAttempts - 1) * policy.capMillis

const delaySecondsPattern = /^[0-9]{1,9}$/

// All three HTTP-date forms (IMF-fixdate, RFC 850, asctime) start with the
// day name; `Date.parse` alone would also take "-5" or "2024" as dates.
const httpDatePattern = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6},? /

/**
 * Parses `Retry-After` as delay-seconds or an HTTP-date; `undefined` when
 * absent or unreadable. A date in the past means no wait.
 */
export const parseRetryAfter = (
  value: string | undefined,
  nowMillis: number,
): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (delaySecondsPattern.test(trimmed)) return Number(trimmed) * 1000
  if (!httpDatePattern.test(trimmed)) return undefined
  // asctime carries no zone, and HTTP dates are always GMT.
  const date = Date.parse(trimmed.endsWith("GMT") ? trimmed : `${trimmed} GMT`)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMillis)
}
