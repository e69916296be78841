/**
 * Keeps Subsonic credentials out of anything lyra shows. Every request carries
 * them in its query (`t` token and `s` salt, or `p` password, or `apiKey`), so
 * a URL is never printed, logged or put in an error as it is.
 */

export const hidden = "***"

/** Query parameters that carry a credential. */
const secretParams = new Set(["p", "t", "s", "apikey", "password", "token", "salt", "key"])

const isSecretParam = (name: string) => secretParams.has(name.toLowerCase())

/** `name=value` pairs in a query string or free text. */
const pair = /([?&;\s]|^)([A-Za-z_]+)=([^&#\s"'<>]*)/g
/** `user:password@` in a URL. */
const userInfo = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/?#@\s:]*)(?::[^/?#@\s]*)?@/gi

/** A URL (or any text holding URLs) with its credentials replaced by `***`. */
export const redactUrl = (text: string): string =>
  text
    .replace(userInfo, (_match, scheme: string, user: string) => `${scheme}${user === "" ? "" : `${user}:`}${hidden}@`)
    .replace(pair, (match, lead: string, name: string) => isSecretParam(name) ? `${lead}${name}=${hidden}` : match)

/**
 * A scrubber for free text (a server's error message, an exception): URL
 * credentials, and every known secret value wherever it appears, even
 * percent-encoded.
 */
export const makeRedactor = (secrets: ReadonlyArray<string>) => {
  const values = secrets
    .filter((secret) => secret.length >= 3)
    .flatMap((secret) => [secret, encodeURIComponent(secret)])
    .sort((a, b) => b.length - a.length)
  return (text: string): string => {
    let out = redactUrl(text)
    for (const value of values) out = out.split(value).join(hidden)
    return out
  }
}
