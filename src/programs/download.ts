import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Request from "effect/Request"
import type { JobSettings } from "../domain/JobSettings.js"
import type { MediaRef } from "../domain/MediaRef.js"
import { UsageError } from "../domain/UsageError.js"
import type { JobRecord } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import type { ApiError } from "../services/MusicApi.js"
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

/** API answers the job keeps at once: the latest used, older ones make room. */
const recentAnswers = 10_000

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

export interface DownloadOptions {
  /** Continue this stored job (after a crash or an interrupt) instead of starting a new one. */
  readonly resume?: JobRecord | undefined
  /** Stored with the job beside its settings, e.g. the options that `resume` needs to run it the same way. */
  readonly record?: Record<string, unknown> | undefined
}

/**
 * A named input the provider says does not exist is bad usage, refused before
 * the job starts. Its answer is kept in the job's request cache, so the walk
 * does not ask again; any other failure is left for the walk to record.
 */
const mustExist = (api: MusicApi["Type"], ref: MediaRef) => {
  const lookup: Effect.Effect<unknown, ApiError> = ref.kind === "artist"
    ? api.artist(ref.provider, ref.id)
    : ref.kind === "album"
    ? api.album(ref.provider, ref.id)
    : ref.kind === "playlist"
    ? api.playlist(ref.provider, ref.id)
    : api.track(ref.provider, ref.id)
  return lookup.pipe(
    Effect.asVoid,
    Effect.catchAll((error) =>
      error._tag === "NotFoundError" ? new UsageError({ message: `${ref}: no such ${ref.kind}` }) : Effect.void
    )
  )
}

/**
 * One download job over several inputs (shorthands or provider URLs). Bad
 * inputs fail the job with a UsageError before anything starts; after that
 * every item ends done, skipped or failed, and the report says so (only the
 * state store failing ends it early). API answers are cached for the job, so a
 * lookup is made once; items are journaled in the JobStore as they change.
 */
export const download = Effect.fn("download")(function*(
  inputs: ReadonlyArray<string>,
  settings: JobSettings,
  options: DownloadOptions = {}
) {
  const api = yield* MusicApi
  const progress = yield* Progress
  const limiter = yield* RateLimiter
  const store = yield* JobStore
  const refs = yield* Effect.forEach(inputs, api.resolve)
  // The job's latest answers, not all of them: a lookup a job repeats comes soon after the first (a
  // best-of after its artist's albums, a playlist), and holding every answer grows with the job (a
  // 10,000-track `lyra simulate` peaked at 481 MB keeping all, 446 MB keeping 5,000, with the same
  // result). One that fell out is asked again, of the JobStore's metadata cache first.
  const cache = yield* Request.makeCache({ capacity: recentAnswers, timeToLive: "1 days" })
  const withJobCache = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(Effect.withRequestCaching(true), Effect.withRequestCache(cache))
  // As many lookups at once as the API level allows: more would only wait, each in fibers of its own
  // (1,000 at once held 350 MB live, 4 s into a 100,000-track simulation).
  const lookups = limiter.settings.apiConcurrency
  yield* Effect.forEach(refs, (ref) => mustExist(api, ref), { concurrency: lookups, discard: true }).pipe(
    withJobCache
  )
  const record = options.resume ?? (yield* store.startJob(refs.map(String), { ...options.record, job: settings }))
  yield* store.setJobState(record.id, "running")
  const job = yield* makeJob(record.id, settings)
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
      const report = JobReport.fromSnapshot(snapshot, interrupted, record.id)
      return store.setJobState(record.id, interrupted ? "interrupted" : report.failed > 0 ? "failed" : "done").pipe(
        Effect.catchAll(() => Effect.void),
        Effect.zipRight(progress.publish({
        _tag: "JobFinished",
        done: report.done,
        skipped: report.skipped,
        failed: report.failed,
        bytes: report.bytes,
        interrupted
      })),
        Effect.as(report)
      )
    })
  // Inputs are walked `albums` at a time, in order: enough to keep every album permit busy even when
  // each walk has one album left, while a walk that waits holds a fiber per album it found. All 1,000
  // artists of a 100,000-track simulation walked at once held 15,000 fibers, 220 MB live at 12 s; 8 at
  // a time, 55 MB.
  return yield* Effect.forEach(refs, (ref) => downloadRef(job, ref), { concurrency: settings.albums, discard: true }).pipe(
    withJobCache,
    Effect.onExit((exit) => Exit.isInterrupted(exit) ? finish(true) : Effect.void),
    Effect.zipRight(finish(false))
  )
})
