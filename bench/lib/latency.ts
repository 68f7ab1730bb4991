/**
 * Latency samples of one measurement, kept in full (a few million doubles at
 * most) so percentiles are exact rather than bucketed.
 */

export interface LatencySummary {
  readonly count: number
  /** Milliseconds. */
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export class LatencyRecorder {
  private samples = new Float64Array(1024)
  private length = 0

  get count(): number {
    return this.length
  }

  /** Adds one sample, in milliseconds. */
  record(millis: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2)
      grown.set(this.samples)
      this.samples = grown
    }
    this.samples[this.length++] = millis
  }

  /** Percentiles by the nearest-rank method; all zero when there are no samples. */
  summary(offsetMillis = 0): LatencySummary {
    if (this.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 }
    const sorted = this.samples.slice(0, this.length).sort()
    const rank = (p: number) => sorted[Math.min(this.length - 1, Math.ceil(p * this.length) - 1)]!
    let sum = 0
    for (const sample of sorted) sum += sample
    const adjust = (value: number) => round(value - offsetMillis)
    return {
      count: this.length,
      p50: adjust(rank(0.5)),
      p95: adjust(rank(0.95)),
      p99: adjust(rank(0.99)),
      max: adjust(sorted[this.length - 1]!),
      mean: adjust(sum / this.length),
    }
  }
}

/** Rounds to microseconds, enough for millisecond figures. */
export const round = (value: number, digits = 3): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Counts of failed requests by cause, such as `status_500` or `timeout`. */
export class ErrorCounter {
  readonly byCause: Record<string, number> = {}
  total = 0

  add(cause: string): void {
    this.byCause[cause] = (this.byCause[cause] ?? 0) + 1
    this.total++
  }
}
