/** Human-readable sizes, durations and clock offsets for plain-text output. */

const byteUnits = ["kB", "MB", "GB", "TB", "PB"] as const

/** Decimal (SI) units with one decimal, as download tools show them: `512 B`, `12.3 MB`. */
export const formatBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`
  let value = bytes / 1000
  let unit = 0
  // Compare after rounding so 999.96 kB reads 1.0 MB rather than 1000.0 kB.
  while (unit < byteUnits.length - 1 && Math.round(value * 10) / 10 >= 1000) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${byteUnits[unit] ?? "PB"}`
}

/**
 * A duration for people: `850ms`, `2s`, `1.5s`, `1m 05s`, `2h 03m`.
 * Seconds keep one decimal only under a minute, where it still matters.
 */
export const formatDuration = (millis: number): string => {
  const ms = Math.max(0, Math.round(Number.isFinite(millis) ? millis : 0))
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) {
    const tenths = Math.round(ms / 100)
    if (tenths < 600) return tenths % 10 === 0 ? `${tenths / 10}s` : `${(tenths / 10).toFixed(1)}s`
  }
  const seconds = Math.round(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad2(seconds % 60)}s`
  const minutes = Math.round(seconds / 60)
  return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`
}

/** An offset from the job's start as `mm:ss.s`; minutes grow past two digits if they must. */
export const formatElapsed = (millis: number): string => {
  const tenths = Math.floor(Math.max(0, Number.isFinite(millis) ? millis : 0) / 100)
  const minutes = Math.floor(tenths / 600)
  const rest = tenths % 600
  return `${pad2(minutes)}:${pad2(Math.floor(rest / 10))}.${rest % 10}`
}

/** Bytes per second over a span, or undefined when the span is empty. */
export const formatThroughput = (bytes: number, millis: number): string | undefined =>
  millis > 0 ? `${formatBytes((bytes * 1000) / millis)}/s` : undefined

/** A rate in bytes per second: `9.9 MB/s`. */
export const formatRate = (bytesPerSecond: number): string => `${formatBytes(bytesPerSecond)}/s`

/** Calls per second, with one decimal below ten: `20/s`, `2.5/s`. */
export const formatCallRate = (perSecond: number): string =>
  `${perSecond < 10 && !Number.isInteger(perSecond) ? perSecond.toFixed(1) : Math.round(perSecond)}/s`

/** A fraction as a whole percentage, 0 to 100: `52%`. */
export const formatPercent = (fraction: number): string =>
  `${Math.floor(Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0)) * 100)}%`

const pad2 = (n: number): string => String(n).padStart(2, "0")
