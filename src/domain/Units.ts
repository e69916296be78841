/** Parsers for the units users type: durations, rates, quotas and bandwidths. Each answers `undefined` for bad text. */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/** `40ms`, `1.5s`, `2m`, `1h`; a bare number is in `unit`. */
export const parseMillis = (text: string, unit: "ms" | "s" = "ms"): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?$/i.exec(text.trim())
  if (match === null) return undefined
  return Number(match[1]) * (durationUnits[(match[2] ?? unit).toLowerCase()] ?? 1)
}

const perSecondOf: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 }

/** `20`, `20/s`, `1200/min`: calls per second, more than zero. */
export const parseRate = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h))?$/i.exec(text.trim())
  if (match === null) return undefined
  const rate = Number(match[1]) / (perSecondOf[(match[2] ?? "s").toLowerCase()] ?? 1)
  return rate > 0 ? rate : undefined
}

/** `5000/1h`, `100/1m`, `10/30s`: a whole number of calls per window. */
export const parseQuota = (text: string): { readonly limit: number; readonly windowMillis: number } | undefined => {
  const match = /^(\d+)\s*\/\s*(.+)$/.exec(text.trim())
  if (match === null) return undefined
  const limit = Number(match[1])
  const windowText = match[2] ?? ""
  const windowMillis = parseMillis(/^\d/.test(windowText) ? windowText : `1${windowText}`, "s")
  return limit >= 1 && windowMillis !== undefined && windowMillis > 0 ? { limit, windowMillis } : undefined
}

const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kbit: 1e3 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8
}

const unlimited = /^(unlimited|none|off|inf|infinity)$/i

/** `4MB/s`, `512KiB/s`, `100Mbit/s` or a bare number of bytes per second; `unlimited` is Infinity. */
export const parseBandwidth = (text: string): number | undefined => {
  const value = text.trim()
  if (unlimited.test(value)) return Infinity
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|[kmg]bit|b)?(?:\/s|ps)?$/i.exec(value)
  if (match === null) return undefined
  const bytes = Number(match[1]) * (byteUnits[(match[2] ?? "b").toLowerCase()] ?? 1)
  return bytes > 0 ? bytes : undefined
}
