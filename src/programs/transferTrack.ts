import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Track } from "../domain/Track.js"
import type { TrackSource } from "../domain/TrackSource.js"
import { loggedRequest } from "../engine/loggedRequest.js"
import { retryingWithProgress } from "../engine/retrying.js"
import type { RateLimitedError } from "../services/MusicApiError.js"
import { IntegrityError, InvalidError } from "../services/MusicApiError.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import { RetryPolicy } from "../services/RetryPolicy.js"
import { type FileState, Storage } from "../services/Storage.js"
import type { Job } from "./Job.js"
import { Transport } from "../services/Transport.js"

/** Byte progress is published at most this often per track. */
const progressIntervalMillis = 250

/**
 * Streams a track's bytes into `<path>.part`, resuming from what is already
 * there, under the bandwidth cap; verifies size and checksum where known, then
 * renames it into place. Retried as a whole on transient faults: a retry
 * resumes from the bytes that reached the disk, and a corrupt file restarts.
 */
export const transferTrack = Effect.fn("transferTrack")(function*(
  job: Job,
  item: string,
  track: Track,
  source: TrackSource,
  path: string,
  inspected?: FileState
) {
  const storage = yield* Storage
  const limiter = yield* RateLimiter
  const progress = yield* Progress
  const policy = yield* RetryPolicy
  const transport = yield* Transport
  const body = source.body
  const throttled = (error: { readonly _tag: string }) =>
    error._tag === "RateLimitedError" ? limiter.throttled(error as RateLimitedError) : Effect.void

  const attempt = Effect.gen(function*() {
    // The caller's look at the files serves the first attempt; a retry looks again.
    const existing = inspected ?? (yield* storage.inspect(path))
    inspected = undefined
    let offset = existing.partialBytes
    if ((source.sizeBytes !== undefined && offset > source.sizeBytes) || (source.resumable === false && offset > 0)) {
      yield* storage.discard(path)
      offset = 0
    }
    // A .part that already holds every byte (the process died before renaming it) needs no request.
    const complete = source.sizeBytes !== undefined && offset === source.sizeBytes && offset > 0
    if (!complete) yield* limiter.admit(track.provider)
    const opened = complete ? { offset, bytes: Stream.empty } : yield* (body._tag === "StreamBody"
      ? body.open(offset)
      : transport.open(track.provider, body, offset)).pipe(Effect.tapError(throttled))
    if (opened.offset !== offset && opened.offset !== 0) {
      return yield* new InvalidError({ provider: track.provider, reason: `range: asked for ${offset}, got ${opened.offset}` })
    }
    let written = opened.offset
    let lastPublished = Number.NEGATIVE_INFINITY
    const bytes = opened.bytes.pipe(
      Stream.tapError(throttled),
      Stream.mapEffect((chunk) =>
        limiter.bandwidth(chunk.length).pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.flatMap((now) => {
            written += chunk.length
            if (now - lastPublished < progressIntervalMillis) return Effect.succeed(chunk)
            lastPublished = now
            return Effect.as(
              job.emit({
                _tag: "TrackBytes",
                item,
                bytes: written,
                ...(source.sizeBytes === undefined ? {} : { totalBytes: source.sizeBytes })
              }),
              chunk
            )
          })
        )
      )
    )
    const result = yield* storage.write(path, bytes, { append: opened.offset > 0 }).pipe(
      loggedRequest(track.provider, "transfer", {
        item,
        offset: opened.offset,
        ...(body._tag === "HttpBody" ? { url: body.url } : {})
      }, (written) => ({ bytes: written.bytes }))
    )
    const mismatch = source.sizeBytes !== undefined && result.bytes !== source.sizeBytes
      ? `expected ${source.sizeBytes} bytes, got ${result.bytes}`
      : source.minBytes !== undefined && result.bytes < source.minBytes
      ? `ended after ${result.bytes} bytes, short of the ${source.minBytes} a whole file needs`
      : source.sha256 !== undefined && result.sha256 !== source.sha256.toLowerCase()
      ? `sha256 ${result.sha256.slice(0, 12)}… differs from the expected ${source.sha256.slice(0, 12)}…`
      : undefined
    if (mismatch !== undefined) {
      return yield* new IntegrityError({ provider: track.provider, reason: mismatch })
    }
    yield* storage.commit(path)
    // The last bytes are reported too, with the total they came to: a display sees the transfer complete.
    yield* job.emit({ _tag: "TrackBytes", item, bytes: result.bytes, totalBytes: source.sizeBytes ?? result.bytes })
    return result
  }).pipe(
    Effect.scoped,
    // Corrupt bytes are never resumed from: the next attempt starts over.
    Effect.tapError((error) => error._tag === "IntegrityError" ? storage.discard(path) : Effect.void)
  )

  return yield* attempt.pipe(
    retryingWithProgress(policy, progress, track.provider, `transfer ${track.provider}:track:${track.id}`, item)
  )
})
