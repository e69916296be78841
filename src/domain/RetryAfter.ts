/**
 * Reads an HTTP Retry-After header (RFC 9110): delay-seconds or an HTTP-date.
 * Answers milliseconds to wait from `now`, or undefined when absent or unreadable.
 * @effect/platform v3 does not read it, so lyra does.
 */
export const parseRetryAfter = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined) return undefined
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
