import type { HttpClientResponse } from "@effect/platform"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Duration, Effect, Layer, Stream } from "effect"
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

/** Error pages are text; a track never is. */
const isErrorPage = (contentType: string | undefined) =>
  contentType !== undefined && /^(text\/|application\/(json|xml|xhtml))/i.test(contentType)

export interface TransportTimeouts {
  /** From sending the request to its status and headers. */
  readonly response: Duration.Duration
  /** The longest a body may go without a byte before the transfer is aborted (and retried). */
  readonly stall: Duration.Duration
}

export const defaultTimeouts: TransportTimeouts = {
  response: Duration.seconds(30),
  stall: Duration.seconds(30)
}

/**
 * The Transport over @effect/platform's HttpClient (HttpClientLive's undici
 * pool in the CLI, which also times out connecting). Only a 200 or 206 with a
 * non-text body is ever handed on as track bytes, and a body that ends short
 * of its Content-Length fails, so no error page or truncated file is saved. A
 * response that does not come, or a body that stalls, fails as transient (the
 * caller retries, resuming from what reached the disk). Errors never show the
 * URL: it may carry credentials.
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
            Effect.mapError((error) => new TransientError({ provider, reason: `request failed: ${error.reason}` })),
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
          const start = response.status === 206 ? rangeStart(response.headers["content-range"]) : 0
          if (start === undefined) {
            return yield* new InvalidError({ provider, reason: "answer: a 206 without a Content-Range" })
          }
          const length = Number(response.headers["content-length"] ?? Number.NaN)
          let received = 0
          const bytes = response.stream.pipe(
            Stream.mapError((error) => new TransientError({ provider, reason: `transfer broke: ${error.reason}` })),
            Stream.timeoutFail(
              () =>
                new TransientError({
                  provider,
                  reason: `transfer stalled: no bytes for ${Duration.format(timeouts.stall)} after ${received}`
                }),
              timeouts.stall
            ),
            Stream.tap((chunk) => Effect.sync(() => (received += chunk.length))),
            Stream.concat(Stream.suspend(() =>
              Number.isFinite(length) && received !== length
                ? Stream.fail(
                  new TransientError({ provider, reason: `body ended after ${received} of ${length} bytes` })
                )
                : Stream.empty
            ))
          )
          return { offset: start, bytes }
        })
      })
    })
  )

export const layer: Layer.Layer<Transport, never, HttpClient.HttpClient> = layerWith(defaultTimeouts)
