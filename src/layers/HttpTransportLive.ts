import type { HttpClientResponse } from "@effect/platform"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Effect, Layer, Stream } from "effect"
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

/**
 * The Transport over @effect/platform's HttpClient (undici with pooled
 * keep-alive connections in the CLI). Only a 200 or 206 with a non-text body
 * is ever handed on as track bytes, and a body that ends short of its
 * Content-Length fails, so no error page or truncated file is saved.
 */
export const layer: Layer.Layer<Transport, never, HttpClient.HttpClient> = Layer.effect(
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
          Effect.mapError((error) => new TransientError({ provider, reason: `request failed: ${error.reason}` }))
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
