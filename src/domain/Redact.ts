/** Hides secrets in what goes to logs: credentials in URLs, secret headers and fields, bearer tokens. */

export const redacted = "[redacted]"

/** Names of headers, fields and query parameters whose values are secrets. */
const secretName =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|id[-_]?token|token|auth|auth[-_]?token|session|session[-_]?id|sid|secret|client[-_]?secret|password|passwd|pass|pwd|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|private[-_]?key|credentials?)$/i

/** Whether a header, field or query parameter of this name holds a secret. */
export const isSecretName = (name: string): boolean => secretName.test(name.trim())

/**
 * One-letter query parameters that carry credentials in Subsonic URLs: `t`
 * (a salted token, which replays), `s` (its salt) and `p` (the password).
 * Hidden only inside a query string (after `?`, `&` or `;`, or before `&`),
 * where a name this short means that.
 */
const queryCredential = /^[tsp]$/i

/** `user:password@` in a URL. */
const userInfo = /\b([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s:]+)(?::[^/?#@\s]*)?@/gi
/** `name=value` in a query string or a form body; the value runs to `&`, `#`, a quote or a space. */
const parameter = /([?&;]|\b)([A-Za-z0-9_.-]+)=([^&#\s"']*)/g
/** `Bearer xyz`, `Basic xyz`, `Token xyz` wherever they appear. */
const scheme = /\b(Bearer|Basic|Digest|Token|Bot)\s+[A-Za-z0-9._~+/=-]+/g
/** `X-Api-Key: value` as a header line. */
const headerLine = /^([A-Za-z0-9-]+)([ \t]*:[ \t]*)(.+)$/gm
/** `"password": "..."` inside a JSON text. */
const jsonField = /("([^"]+)"\s*:\s*)"(?:[^"\\]|\\.)*"/g

/** A string with every secret it shows replaced by `[redacted]`. */
export const redactText = (text: string): string =>
  text
    .replace(userInfo, (_, prefix: string, user: string) => `${prefix}${user}:${redacted}@`)
    .replace(parameter, (match, lead: string, name: string, _value: string, at: number, whole: string) =>
      isSecretName(name) || (queryCredential.test(name) && (lead !== "" || whole[at + match.length] === "&"))
        ? `${lead}${name}=${redacted}`
        : match)
    .replace(scheme, (_, kind: string) => `${kind} ${redacted}`)
    .replace(headerLine, (match, name: string, colon: string) => isSecretName(name) ? `${name}${colon}${redacted}` : match)
    .replace(jsonField, (match, head: string, name: string) => isSecretName(name) ? `${head}"${redacted}"` : match)

/**
 * A copy of `value` safe to log: strings are scrubbed, and fields or header
 * entries named like secrets are replaced whole. Cycles and depth are bounded.
 */
export const redact = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactText(value)
  if (value === null || typeof value !== "object") return value
  if (depth > 8) return "[too deep]"
  if (value instanceof Date) return value
  if (value instanceof URL) return redactText(value.href)
  if (Array.isArray(value)) return value.map((entry) => redact(entry, depth + 1))
  if (value instanceof Map) {
    return Object.fromEntries(
      [...value].map(([key, entry]) => [String(key), isSecretName(String(key)) ? redacted : redact(entry, depth + 1)])
    )
  }
  // Headers (fetch's or undici's) iterate as [name, value] pairs.
  if (typeof (value as { entries?: unknown }).entries === "function" && typeof Headers !== "undefined" && value instanceof Headers) {
    return Object.fromEntries([...value.entries()].map(([key, entry]) => [key, isSecretName(key) ? redacted : redactText(entry)]))
  }
  const out: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(value)) {
    out[key] = isSecretName(key) ? redacted : redact(entry, depth + 1)
  }
  return out
}
