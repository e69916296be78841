import type { HttpClientResponse } from "@effect/platform"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { parseRetryAfter } from "../domain/RetryAfter.js"
import type { MusicApiError } from "../services/MusicApiError.js"
import {
  InvalidError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnauthorizedError
} from "../services/MusicApiError.js"
import { Transport } from "../services/Transport.js"

/** The start of a `Content-Range: bytes <start>-<end>/<size>` header. */
const rangeStart = (header: string | undefined): number | undefined => {
  const match = /^bytes\s+(\d+)-/i.exec(header ?? "")
  return match === null ? undefined : Number(match[1])
}

/** A status that is not a body of track bytes, as the typed error it stands for. */
const statusError = (
  provider: string,
  response: HttpClientResponse.HttpClientResponse,
  now: number
): MusicApiError => {
  const status = response.status
  if (status === 429 || status === 503) {
    const retryAfterMillis = parseRetryAfter(response.headers["retry-after"], now)
    return new RateLimitedError({ provider, status, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })
  }
  if (status === 404 || status === 410) return new NotFoundError({ provider, what: "track file" })
  if (status === 401 || status === 403) return new UnauthorizedError({ provider, reason: `HTTP ${status}` })
  if (status === 408 || status >= 500) return new TransientError({ provider, reason: `HTTP ${status}` })
  return new InvalidError({ provider, reason: `answer: HTTP ${status}` })
}

/** What broke, in its cause's words where they hold no URL (a URL may carry credentials). */
const causeOf = (error: { readonly reason: string; readonly cause?: unknown }) => {
  const said = error.cause instanceof Error ? error.cause.message.split("\n")[0] ?? "" : ""
  return said !== "" && !/[a-z][a-z0-9+.-]*:\/\/|[?&][^=\s]+=/i.test(said) ? said : error.reason
}

/** `audio/mpeg` of `Audio/MPEG; charset=binary`. */
const mediaTypeOf = (contentType: string | undefined) => contentType?.split(";")[0]?.trim().toLowerCase() || undefined

/** Error pages are text; a track never is. */
const isErrorPage = (contentType: string | undefined) =>
  contentType !== undefined && /^(text\/|application\/(json|xml|xhtml))/i.test(contentType)

export interface TransportTimeouts {
  /** From sending the request to its status and headers (redirects included). */
  readonly response: Duration.Duration
  /** The longest a body may go without a byte before the transfer is aborted (and retried). */
  readonly stall: Duration.Duration
  /**
   * The slowest a body may come: fewer than `bytes` in `window` of waiting on
   * the server aborts the transfer (and it is retried, resuming), so a body
   * trickled a byte at a time cannot hold a track forever. Time spent in
   * lyra's own bandwidth cap does not count.
   */
  readonly lowSpeed?: { readonly bytes: number; readonly window: Duration.Duration } | undefined
}

export const defaultTimeouts: TransportTimeouts = {
  response: Duration.seconds(30),
  stall: Duration.seconds(30),
  lowSpeed: { bytes: 16 * 1024, window: Duration.seconds(60) }
}

/**
 * `bytes` with the stall and low-speed limits: each pull from the server may
 * wait at most the stall timeout, and at most what is left of the low-speed
 * window since the last `lowSpeed.bytes` arrived. Only the time spent waiting
 * on the server is counted (on the Clock).
 */
const guarded = (
  bytes: Stream.Stream<Uint8Array, TransientError>,
  timeouts: TransportTimeouts,
  provider: string,
  received: () => number
): Stream.Stream<Uint8Array, TransientError> =>
  Stream.unwrapScoped(Effect.map(Stream.toPull(bytes), (pull) => {
    const stallMillis = Duration.toMillis(timeouts.stall)
    const lowSpeed = timeouts.lowSpeed
    const windowMillis = lowSpeed === undefined ? Number.POSITIVE_INFINITY : Duration.toMillis(lowSpeed.window)
    // Waiting time and bytes since the last time `lowSpeed.bytes` were reached.
    let waited = 0
    let gained = 0
    const stalled = () =>
      new TransientError({
        provider,
        reason: `transfer stalled: no bytes for ${Duration.format(timeouts.stall)} after ${received()}`
      })
    const tooSlow = () =>
      new TransientError({
        provider,
        reason: `transfer too slow: under ${lowSpeed?.bytes} bytes in ${
          Duration.format(lowSpeed?.window ?? Duration.zero)
        } after ${received()}`
      })
    return Stream.repeatEffectChunkOption(Effect.gen(function*() {
      const left = windowMillis - waited
      if (left <= 0) return yield* Effect.fail(Option.some(tooSlow()))
      const before = yield* Clock.currentTimeMillis
      const chunk = yield* pull.pipe(Effect.timeoutFail({
        duration: Duration.millis(Math.min(stallMillis, left)),
        onTimeout: () => Option.some(left < stallMillis ? tooSlow() : stalled())
      }))
      waited += (yield* Clock.currentTimeMillis) - before
      for (const piece of chunk) gained += piece.length
      if (lowSpeed !== undefined && gained >= lowSpeed.bytes) {
        waited = 0
        gained = 0
      }
      return chunk
    }))
  }))

/**
 * The Transport over @effect/platform's HttpClient (HttpClientLive's undici
 * pool in the CLI, which also times out connecting). Only a 200 or 206 with a
 * non-text body is ever handed on as track bytes, and a body that ends short
 * of its Content-Length fails, so no error page or truncated file is saved. A
 * response that does not come, or a body that stalls, fails as transient (the
 * caller retries, resuming from what reached the disk); so does one that
 * trickles in slower than `lowSpeed`. A redirect the HttpClient refuses
 * (HttpClientLive's policy) is final. Errors never show the URL: it may carry
 * credentials. Nothing in the response's headers (a Content-Disposition name)
 * is used: where the bytes go is the caller's plan alone.
 */
export const layerWith = (timeouts: TransportTimeouts): Layer.Layer<Transport, never, HttpClient.HttpClient> =>
  Layer.effect(
    Transport,
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      return Transport.of({
        open: Effect.fnUntraced(function*(provider, body, offset) {
          const request = HttpClientRequest.get(body.url).pipe(
            HttpClientRequest.setHeaders(body.headers),
            offset > 0 ? HttpClientRequest.setHeader("range", `bytes=${offset}-`) : (request) => request
          )
          const response = yield* client.execute(request).pipe(
            // A redirect refused by policy is final; any other failure to get an answer may pass.
            Effect.mapError((error) =>
              error._tag === "ResponseError" && error.reason === "StatusCode" && error.description !== undefined
                ? new InvalidError({ provider, reason: error.description })
                : new TransientError({ provider, reason: `request failed: ${causeOf(error)}` })
            ),
            Effect.timeoutFail({
              duration: timeouts.response,
              onTimeout: () =>
                new TransientError({ provider, reason: `no answer within ${Duration.format(timeouts.response)}` })
            })
          )
          if (response.status !== 200 && response.status !== 206) {
            return yield* statusError(provider, response, yield* Clock.currentTimeMillis)
          }
          if (isErrorPage(response.headers["content-type"])) {
            return yield* new TransientError({
              provider,
              reason: `HTTP ${response.status} sent ${response.headers["content-type"]} instead of audio`
            })
          }
          const mediaType = mediaTypeOf(response.headers["content-type"])
          if (body.mediaTypes !== undefined && !body.mediaTypes.includes(mediaType ?? "")) {
            return yield* new InvalidError({
              provider,
              reason: `the server sent ${mediaType ?? "no Content-Type"}, not the ${body.mediaTypes[0]} asked for`
            })
          }
          const start = response.status === 206 ? rangeStart(response.headers["content-range"]) : 0
          if (start === undefined) {
            return yield* new InvalidError({ provider, reason: "answer: a 206 without a Content-Range" })
          }
          const length = Number(response.headers["content-length"] ?? Number.NaN)
          let received = 0
          const raw = response.stream.pipe(
            Stream.mapError((error) => new TransientError({ provider, reason: `transfer broke: ${causeOf(error)}` }))
          )
          const bytes = guarded(raw, timeouts, provider, () => received).pipe(
            Stream.tap((chunk) => Effect.sync(() => (received += chunk.length))),
            Stream.concat(Stream.suspend(() =>
              Number.isFinite(length) && received !== length
                ? Stream.fail(
                  new TransientError({ provider, reason: `body ended after ${received} of ${length} bytes` })
                )
                : received === 0
                // No track is empty; and a body that broke before it was read ends empty, its error lost.
                ? Stream.fail(new TransientError({ provider, reason: "the body was empty" }))
                : Stream.empty
            ))
          )
          return { offset: start, bytes }
        })
      })
    })
  )

export const layer: Layer.Layer<Transport, never, HttpClient.HttpClient> = layerWith(defaultTimeouts)
