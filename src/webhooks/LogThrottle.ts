/**
 * Limits repeated log lines, so a flood of forged or broken deliveries costs
 * a few lines per interval instead of one per request. The first line after
 * a quiet interval reports how many were suppressed.
 */
export interface LogThrottle {
  /**
   * Returns `undefined` when the line should be dropped, otherwise the
   * number of lines with the same key dropped since the last one written.
   */
  readonly admit: (key: string) => number | undefined
}

export const makeLogThrottle = (options: {
  readonly perInterval: number
  readonly intervalMillis: number
  readonly now?: () => number
}): LogThrottle => {
  const now = options.now ?? Date.now
  const windows = new Map<string, { start: number; written: number; dropped: number }>()

  return {
    admit: (key) => {
      const time = now()
      let window = windows.get(key)
      if (window === undefined || time - window.start >= options.intervalMillis) {
        const dropped = window?.dropped ?? 0
        // Keys are bounded by configuration (provider, reason), but stale
        // windows are dropped anyway once the map grows.
        if (windows.size > 10_000) windows.clear()
        window = { start: time, written: 1, dropped: 0 }
        windows.set(key, window)
        return dropped
      }
      if (window.written < options.perInterval) {
        window.written += 1
        const dropped = window.dropped
        window.dropped = 0
        return dropped
      }
      window.dropped += 1
      return undefined
    },
  }
}
