import { Effect, Exit, Request } from "effect"
import type { JobSettings } from "../domain/JobSettings.js"
import type { MediaRef } from "../domain/MediaRef.js"
import { MusicApi } from "../services/MusicApi.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import { downloadAlbum } from "./downloadAlbum.js"
import { downloadArtist } from "./downloadArtist.js"
import { downloadPlaylist } from "./downloadPlaylist.js"
import { downloadTrack } from "./downloadTrack.js"
import type { Job } from "./Job.js"
import { makeJob } from "./Job.js"
import { JobReport } from "./JobReport.js"

const downloadRef = (job: Job, ref: MediaRef) => {
  switch (ref.kind) {
    case "artist":
      return downloadArtist(job, ref.provider, ref.id)
    case "album":
      return downloadAlbum(job, ref.provider, ref.id)
    case "playlist":
      return downloadPlaylist(job, ref.provider, ref.id)
    case "track":
      return downloadTrack(job, ref.provider, ref.id)
  }
}

/**
 * One download job over several inputs (shorthands or provider URLs). Bad
 * inputs fail the job with a UsageError before anything starts; after that it
 * never fails: every item ends done, skipped or failed, and the report says so.
 * API answers are cached for the job, so a lookup is made once.
 */
export const download = Effect.fn("download")(function*(inputs: ReadonlyArray<string>, settings: JobSettings) {
  const api = yield* MusicApi
  const progress = yield* Progress
  const limiter = yield* RateLimiter
  const refs = yield* Effect.forEach(inputs, api.resolve)
  const job = yield* makeJob(settings)
  const cache = yield* Request.makeCache({ capacity: 1_000_000, timeToLive: "1 days" })
  yield* progress.publish({
    _tag: "JobStarted",
    inputs: refs.map(String),
    limits: {
      albums: settings.albums,
      tracks: settings.tracks,
      tracksPerAlbum: settings.tracksPerAlbum,
      api: limiter.settings.apiConcurrency
    }
  })
  const finish = (interrupted: boolean) =>
    Effect.flatMap(progress.snapshot, (snapshot) => {
      const report = JobReport.fromSnapshot(snapshot, interrupted)
      return progress.publish({
        _tag: "JobFinished",
        done: report.done,
        skipped: report.skipped,
        failed: report.failed,
        bytes: report.bytes,
        interrupted
      }).pipe(Effect.as(report))
    })
  return yield* Effect.forEach(refs, (ref) => downloadRef(job, ref), { concurrency: "unbounded", discard: true }).pipe(
    Effect.withRequestCaching(true),
    Effect.withRequestCache(cache),
    Effect.onExit((exit) => Exit.isInterrupted(exit) ? finish(true) : Effect.void),
    Effect.zipRight(finish(false))
  )
})
