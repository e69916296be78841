import type { HttpClientResponse } from "@effect/platform"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { parseRetryAfter } from "../../domain/RetryAfter.js"
import type { MusicApiError } from "../../services/MusicApiError.js"
import {
  InvalidError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnauthorizedError
} from "../../services/MusicApiError.js"
import { authParams, clientName, makeSalt, protocolVersion, secretsOf } from "./SubsonicAuth.js"
import type { SubsonicSettings } from "./SubsonicConfig.js"
import { makeRedactor } from "./SubsonicRedact.js"
import { provider } from "./SubsonicInfo.js"
import { Envelope } from "./SubsonicResponse.js"

export interface SubsonicClientOptions {
  /** How long an answer's status and headers may take, and then its body, before the call is failed (and retried). */
  readonly answerTimeout: Duration.Duration
  /** The largest answer read: a bigger one fails rather than filling memory. */
  readonly maxAnswerBytes: number
}

/** A getPlaylist of 10,000 songs is some 10 MB of JSON; nothing lyra asks for comes near the cap. */
export const defaultOptions: SubsonicClientOptions = {
  answerTimeout: Duration.seconds(30),
  maxAnswerBytes: 64 * 1024 * 1024
}

/** A `status: failed` answer as the typed error it stands for, with a clear message. */
export const failedStatusError = (code: number, message: string, what: string): MusicApiError => {
  const said = message === "" ? "" : `: ${message}`
  switch (code) {
    case 10:
      return new InvalidError({ provider, reason: `request for ${what}, a required parameter is missing${said}` })
    case 20:
      return new InvalidError({ provider, reason: `protocol: the server is newer than lyra${said}` })
    case 30:
      return new InvalidError({ provider, reason: `protocol: the server is too old for lyra${said}` })
    case 40:
      return new UnauthorizedError({ provider, reason: "wrong username or password" })
    case 41:
      return new UnauthorizedError({
        provider,
        reason: "token authentication is not supported for this (LDAP) user; set LYRA_SUBSONIC_API_KEY instead"
      })
    case 42:
      return new UnauthorizedError({ provider, reason: "the server only accepts API keys; set LYRA_SUBSONIC_API_KEY" })
    case 43:
      return new UnauthorizedError({ provider, reason: "conflicting authentication parameters" })
    case 44:
      return new UnauthorizedError({ provider, reason: "invalid API key" })
    case 50:
      return new UnauthorizedError({ provider, reason: `not allowed to read ${what}${said}` })
    case 60:
      return new UnauthorizedError({ provider, reason: `the server's trial period is over${said}` })
    case 70:
      return new NotFoundError({ provider, what })
    default:
      // 0 is "a generic error": the server failed, which may pass.
      return new TransientError({ provider, reason: `server error ${code} on ${what}${said}` })
  }
}

/** A status that is not an answer, as the typed error it stands for. */
const statusError = (response: HttpClientResponse.HttpClientResponse, what: string, now: number): MusicApiError => {
  const status = response.status
  if (status === 429 || status === 503) {
    const retryAfterMillis = parseRetryAfter(response.headers["retry-after"], now)
    return new RateLimitedError({ provider, status, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })
  }
  if (status === 401 || status === 403) return new UnauthorizedError({ provider, reason: `HTTP ${status} for ${what}` })
  if (status === 404 || status === 410) {
    return new InvalidError({
      provider,
      reason: `answer: HTTP ${status} for ${what} (is LYRA_SUBSONIC_URL the server's base URL?)`
    })
  }
  if (status === 408 || status >= 500) return new TransientError({ provider, reason: `HTTP ${status} for ${what}` })
  return new InvalidError({ provider, reason: `answer: HTTP ${status} for ${what}` })
}

/** Whether JSON.parse failed because the text ended early (V8 says so, or points past its last character). */
const endedEarly = (text: string, error: unknown) => {
  if (!(error instanceof SyntaxError)) return false
  if (/end of (JSON|data)|unterminated/i.test(error.message)) return true
  const at = /at position (\d+)/.exec(error.message)
  return at !== null && Number(at[1]) >= text.trimEnd().length
}

/** A body as JSON, or why it is not: cut short (it may pass) or not JSON at all. */
const parseJson = (text: string): { readonly json: unknown } | { readonly problem: "truncated" | "malformed" } => {
  try {
    return { json: JSON.parse(text) }
  } catch (error) {
    return { problem: endedEarly(text, error) ? "truncated" : "malformed" }
  }
}

const mebibytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`

/** Why a request failed, without its URL (which carries the credentials). */
const failure = (error: { readonly reason: string; readonly cause?: unknown }) => {
  const cause = error.cause instanceof Error
    ? `: ${error.cause.message}${error.cause.cause instanceof Error ? ` (${error.cause.cause.message})` : ""}`
    : ""
  return `${error.reason.toLowerCase()} error${cause}`
}

/** The first line of a decoding failure: enough to say which field was wrong. */
const firstIssue = (error: ParseResult.ParseError) =>
  ParseResult.TreeFormatter.formatErrorSync(error).split("\n").slice(0, 3).map((line) => line.trim()).join(" ")

export interface SubsonicClient {
  readonly settings: SubsonicSettings
  /** Scrubs every credential from a text. */
  readonly redact: (text: string) => string
  /** A URL of `/rest/<method>` with fresh credentials; never to be shown as it is. */
  readonly signedUrl: (method: string, params: Readonly<Record<string, string>>) => Effect.Effect<string>
  /**
   * Calls `/rest/<method>` and decodes the payload under `field` (or only checks
   * the status when `field` is undefined). `what` names the thing asked for, in errors.
   */
  readonly get: <A, I>(
    method: string,
    params: Readonly<Record<string, string>>,
    what: string,
    field: string | undefined,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<A, MusicApiError>
}

/** A client for one configured server, over an HttpClient (undici's pool in the CLI). */
export const make = (
  settings: SubsonicSettings,
  http: HttpClient.HttpClient,
  options: SubsonicClientOptions = defaultOptions
): SubsonicClient => {
  const redact = makeRedactor(secretsOf(settings.auth))
  const { answerTimeout, maxAnswerBytes } = options
  const tooLarge = (method: string, what: string, declared: number | undefined) =>
    new InvalidError({
      provider,
      reason: `answer: ${method} for ${what} ${
        declared === undefined ? "runs past" : `is ${mebibytes(declared)}, over`
      } the ${mebibytes(maxAnswerBytes)} lyra reads`
    })

  /** The body as text, read up to the cap: a longer one fails without being kept. */
  const readCapped = (response: HttpClientResponse.HttpClientResponse, method: string, what: string) =>
    Effect.gen(function*() {
      const declared = Number(response.headers["content-length"] ?? Number.NaN)
      if (declared > maxAnswerBytes) return yield* tooLarge(method, what, declared)
      const chunks: Array<Uint8Array> = []
      let size = 0
      yield* response.stream.pipe(
        Stream.mapError((error) =>
          new TransientError({ provider, reason: redact(`answer for ${what} broke: ${failure(error)}`) })
        ),
        Stream.runForEach((chunk) => {
          size += chunk.length
          if (size > maxAnswerBytes) return tooLarge(method, what, undefined)
          chunks.push(chunk)
          return Effect.void
        })
      )
      return Buffer.concat(chunks, size).toString("utf8")
    })

  const signedUrl = (method: string, params: Readonly<Record<string, string>>) =>
    Effect.map(makeSalt, (salt) => {
      const query = new URLSearchParams({
        ...params,
        ...authParams(settings.auth, salt),
        v: protocolVersion,
        c: clientName,
        f: "json"
      })
      return `${settings.baseUrl}/rest/${method}?${query.toString()}`
    })

  const decodeEnvelope = Schema.decodeUnknown(Envelope)

  const get = <A, I>(
    method: string,
    params: Readonly<Record<string, string>>,
    what: string,
    field: string | undefined,
    schema: Schema.Schema<A, I>
  ): Effect.Effect<A, MusicApiError> =>
    Effect.gen(function*() {
      const url = yield* signedUrl(method, params)
      const request = HttpClientRequest.get(url).pipe(HttpClientRequest.acceptJson)
      const response = yield* http.execute(request).pipe(
        Effect.timeoutFail({
          duration: answerTimeout,
          onTimeout: () =>
            new TransientError({ provider, reason: `no answer for ${what} within ${Duration.format(answerTimeout)}` })
        }),
        Effect.catchTag(
          "RequestError",
          (error) => new TransientError({ provider, reason: redact(`request for ${what} failed: ${failure(error)}`) })
        ),
        // A redirect refused by policy is final, and says why; any other broken answer may pass.
        Effect.catchTag("ResponseError", (error): Effect.Effect<never, MusicApiError> =>
          error.reason === "StatusCode" && error.description !== undefined
            ? new InvalidError({ provider, reason: `${error.description} for ${what}` })
            : new TransientError({ provider, reason: redact(`answer for ${what} failed: ${failure(error)}`) }))
      )
      const text = yield* readCapped(response, method, what).pipe(
        Effect.timeoutFail({
          duration: answerTimeout,
          onTimeout: () => new TransientError({ provider, reason: `the answer for ${what} stalled` })
        })
      )
      const parsed = parseJson(text)
      const json = "json" in parsed ? parsed.json : undefined
      const envelope = json === undefined ? undefined : yield* Effect.option(decodeEnvelope(json))
      const body = envelope?._tag === "Some" ? envelope.value["subsonic-response"] : undefined
      if (body?.status === "failed") {
        const error = body.error
        return yield* failedStatusError(error?.code ?? 0, redact(error?.message ?? ""), what)
      }
      if (response.status < 200 || response.status >= 300) {
        return yield* statusError(response, what, yield* Clock.currentTimeMillis)
      }
      // JSON that ends early may be a hiccup worth a retry; JSON that is wrong within will be wrong again.
      if ("problem" in parsed && /json/i.test(response.headers["content-type"] ?? "")) {
        return yield* parsed.problem === "truncated"
          ? new TransientError({ provider, reason: `answer: ${method} for ${what} was JSON cut short` })
          : new InvalidError({ provider, reason: `answer: ${method} for ${what} was malformed JSON` })
      }
      if (body === undefined) {
        return yield* new InvalidError({
          provider,
          reason: `answer: ${method} did not answer Subsonic JSON (is LYRA_SUBSONIC_URL a Subsonic server?)`
        })
      }
      if (body.status !== "ok") {
        return yield* new InvalidError({ provider, reason: `answer: ${method} answered status "${body.status}"` })
      }
      const payload = field === undefined ? {} : body[field]
      if (field !== undefined && payload === undefined) {
        return yield* new InvalidError({ provider, reason: `answer: ${method} answered without "${field}"` })
      }
      return yield* Schema.decodeUnknown(schema)(payload).pipe(
        Effect.mapError((error) =>
          new InvalidError({ provider, reason: redact(`answer: ${method} for ${what}: ${firstIssue(error)}`) })
        )
      )
    })

  return { settings, redact, signedUrl, get }
}
