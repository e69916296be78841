import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { planPath } from "../domain/SafePath.js"
import type { Track } from "../domain/Track.js"
import type { GroupLimit, Priority } from "../engine/PriorityPermits.js"
import { JobStore } from "../services/JobStore.js"
import { MusicApi } from "../services/MusicApi.js"
import { Storage } from "../services/Storage.js"
import type { Job } from "./Job.js"
import type { TrackLibrary } from "./postProcess.js"
import { copyThenFinish, downloadThenPostProcess } from "./postProcess.js"
import type { ArchivedCopy } from "./settleInPlace.js"
import { placedAs } from "./settleInPlace.js"
import { alreadyInLibrary, trackFinished, trackQueued } from "./trackEvents.js"
import { transferTrack } from "./transferTrack.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/** One track to put at one place in the library. */
export interface Placement {
  readonly track: Track
  /** Folder names, then the file stem; sanitized when planned. */
  readonly segments: ReadonlyArray<string>
  /** The album, playlist or single this placement belongs to. */
  readonly parent: string
  readonly priority: Priority
  /** The group's own cap on tracks in flight (t), taken with the track level's permit. */
  readonly groupLimit: GroupLimit
  /** The group's covers and the album folder, for post-processing. */
  readonly library?: TrackLibrary | undefined
  /** The archive's copy of the track, checked on disk by the group for all its tracks at once (none with `force`). */
  readonly archived: ArchivedCopy
}

/** The message of any failure, for an item's reason. */
const reasonOf = (error: { readonly message: string }) => error.message

/**
 * Downloads a track once per job however often it is named: the first
 * placement fetches it under the group, track and API levels; any other
 * placement waits for that, holding no track permit, then copies the file if it
 * belongs elsewhere. A track the archive holds, whose file is still there, is
 * not fetched at all (unless `force`). Every placement ends done, skipped or
 * failed (`undefined` for a placement the job already has).
 */
export const placeTrack = Effect.fn("placeTrack")(function*(job: Job, placement: Placement) {
  const storage = yield* Storage
  const store = yield* JobStore
  const api = yield* MusicApi
  const { track } = placement
  const ref = `${track.provider}:track:${track.id}`
  const { isNew, item } = job.placementId(ref, placement.segments.join("/"))
  if (!isNew) return undefined
  yield* job.emit(trackQueued(item, track, placement.segments, placement.parent))
  const finish = (outcome: TrackOutcome) => job.emit(trackFinished(item, outcome)).pipe(Effect.as(outcome))

  // The group's permit and the track level's, taken as one: no lock order between them to keep.
  const withPermits = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    job.trackPermits.withPermit(placement.priority, placement.groupLimit)(self)

  /** Puts a finished file that exists elsewhere in the library at this placement too. */
  const placeCopy = (from: string, bytes: number | undefined, sha256: string | undefined, reason: string) => {
    const path = placedAs(placement.segments, from)
    const skipped: TrackOutcome = { state: "skipped", path, bytes, sha256, reason }
    if (path === from) return Effect.succeed(skipped)
    return Effect.flatMap(storage.inspect(path), (existing) =>
      existing.finalBytes === bytes
        ? Effect.succeed(skipped)
        : Effect.as(storage.copy(from, path), { state: "done", path, bytes, sha256, reason: `copied from ${from}` } as TrackOutcome))
  }

  const fetch = Effect.gen(function*() {
    const source = yield* api.source(track, job.settings.quality)
    const path = planPath(placement.segments, source.container)
    const existing = yield* storage.inspect(path)
    if (
      !job.settings.force && existing.finalBytes !== undefined &&
      (source.sizeBytes === undefined || existing.finalBytes === source.sizeBytes)
    ) {
      return { state: "skipped", path, bytes: existing.finalBytes, reason: alreadyInLibrary } as const
    }
    const written = yield* transferTrack(job, item, track, source, path, existing)
    yield* store.archive(track.provider, track.id, { path, bytes: written.bytes, sha256: written.sha256 })
    return { state: "done", path, bytes: written.bytes, sha256: written.sha256 } as const
  })

  // The archive's copy, checked before any slot, decides whether there is anything to fetch.
  const fetchOnce = Effect.gen(function*() {
    yield* job.emit({ _tag: "ItemStarted", item, kind: "track" })
    return yield* Option.match(yield* placement.archived, {
      onNone: () => fetch,
      onSome: (entry) => placeCopy(entry.path, entry.bytes, entry.sha256, alreadyInLibrary)
    })
  }).pipe(
    Effect.catchAll((error) =>
      error._tag === "JobStoreError"
        ? Effect.fail(error)
        : Effect.succeed<TrackOutcome>({ state: "failed", reason: reasonOf(error) })
    ),
    (download) => downloadThenPostProcess(job, track, placement.library, download, finish, withPermits)
  )

  const { owner, value: first } = yield* job.tracks.run(ref, fetchOnce)
  if (owner) return first

  // Another placement fetched it: copy its file here (unless it is the same file), with its cover.jpg and .lrc.
  const from = first.path
  const copy = Effect.gen(function*() {
    yield* job.emit({ _tag: "ItemStarted", item, kind: "track" })
    if (from === undefined) return { state: "failed", reason: first.reason ?? "not fetched" } satisfies TrackOutcome
    return yield* placeCopy(from, first.bytes, first.sha256, "the same file is placed by another item")
      .pipe(Effect.catchAll((error) => Effect.succeed<TrackOutcome>({ state: "failed", reason: reasonOf(error) })))
  })
  return yield* copyThenFinish(job, track, placement.library, from, copy, finish, withPermits)
})
