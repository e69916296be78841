import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"
import type { SubsonicAuth } from "./SubsonicConfig.js"

/** The REST protocol version lyra speaks, and the client name it gives. */
export const protocolVersion = "1.16.1"
export const clientName = "lyra"

const hex = "0123456789abcdef"

/** A fresh salt for one request: 16 hex digits from Random (seeded in tests). */
export const makeSalt: Effect.Effect<string> = Effect.map(
  Effect.all(Array.from({ length: 16 }, () => Random.nextIntBetween(0, 16))),
  (digits) => digits.map((d) => hex[d]).join("")
)

/** The salted token of the Subsonic API: md5(password + salt), in lower-case hex. */
export const token = (password: string, salt: string): string =>
  createHash("md5").update(password + salt, "utf8").digest("hex")

/**
 * The credential parameters of one request: `u`, `t` and `s` for a password
 * (the password itself never leaves), or `apiKey` alone (OpenSubsonic forbids
 * sending `u` with it).
 */
export const authParams = (auth: SubsonicAuth, salt: string): Record<string, string> =>
  auth._tag === "ApiKey"
    ? { apiKey: Redacted.value(auth.apiKey) }
    : { u: auth.user, t: token(Redacted.value(auth.password), salt), s: salt }

/** The secret values a redactor must scrub for these credentials. */
export const secretsOf = (auth: SubsonicAuth): ReadonlyArray<string> =>
  auth._tag === "ApiKey" ? [Redacted.value(auth.apiKey)] : [Redacted.value(auth.password)]
