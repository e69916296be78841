import { Effect, Either, Option } from "effect"
import { planPath } from "../domain/SafePath.js"
import type { Track } from "../domain/Track.js"
import type { GroupLimit, Priority } from "../engine/PriorityPermits.js"
import type { ArchiveEntry } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { MusicApi } from "../services/MusicApi.js"
import { Storage } from "../services/Storage.js"
import type { StorageError } from "../services/StorageError.js"
import type { Job } from "./Job.js"
import type { TrackLibrary } from "./postProcess.js"
import { copyThenFinish, downloadThenPostProcess } from "./postProcess.js"
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
  /** The archive's entry for the track, read by the group for all its tracks at once (none with `force`). */
  readonly archived: Option.Option<ArchiveEntry>
}

const extensionOf = (path: string) => path.slice(path.lastIndexOf(".") + 1)

/** Why a track that is already in place is skipped. */
const alreadyThere = "already in the library"

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
  yield* job.emit({
    _tag: "ItemQueued",
    item,
    kind: "track",
    label: placement.segments[placement.segments.length - 1] ?? track.title,
    parent: placement.parent,
    ...(track.sizeBytes === undefined ? {} : { sizeBytes: track.sizeBytes })
  })
  const finish = (outcome: TrackOutcome) =>
    job.emit({
      _tag: "ItemFinished",
      item,
      kind: "track",
      state: outcome.state,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
      ...(outcome.path === undefined ? {} : { path: outcome.path }),
      ...(outcome.sha256 === undefined ? {} : { sha256: outcome.sha256 })
    }).pipe(Effect.as(outcome))

  // The group's permit and the track level's, taken as one: no lock order between them to keep.
  const withPermits = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    job.trackPermits.withPermit(placement.priority, placement.groupLimit)(self)

  /** Where this placement puts a file that has `from`'s extension. */
  const placedAs = (from: string) => planPath(placement.segments, extensionOf(from))

  /** Puts a finished file that exists elsewhere in the library at this placement too. */
  const placeCopy = (from: string, bytes: number | undefined, sha256: string | undefined, reason: string) => {
    const path = placedAs(from)
    const skipped: TrackOutcome = { state: "skipped", path, bytes, sha256, reason }
    if (path === from) return Effect.succeed(skipped)
    return Effect.flatMap(storage.inspect(path), (existing) =>
      existing.finalBytes === bytes
        ? Effect.succeed(skipped)
        : Effect.as(storage.copy(from, path), { state: "done", path, bytes, sha256, reason: `copied from ${from}` } as TrackOutcome))
  }

  /** The archive's copy of this track, if its file is still whole on disk. */
  const archivedCopy: Effect.Effect<Option.Option<ArchiveEntry>, StorageError> = Option.match(placement.archived, {
    onNone: () => Effect.succeedNone,
    onSome: (entry) =>
      Effect.map(storage.inspect(entry.path), (state) => state.finalBytes === entry.bytes ? Option.some(entry) : Option.none())
  })

  const fetch = Effect.gen(function*() {
    const source = yield* api.source(track, job.settings.quality)
    const path = planPath(placement.segments, source.container)
    const existing = yield* storage.inspect(path)
    if (
      !job.settings.force && existing.finalBytes !== undefined &&
      (source.sizeBytes === undefined || existing.finalBytes === source.sizeBytes)
    ) {
      return { state: "skipped", path, bytes: existing.finalBytes, reason: alreadyThere } as const
    }
    const written = yield* transferTrack(job, item, track, source, path)
    yield* store.archive(track.provider, track.id, { path, bytes: written.bytes, sha256: written.sha256 })
    return { state: "done", path, bytes: written.bytes, sha256: written.sha256 } as const
  })

  // Read once, before any slot: the archive's copy decides whether there is anything to fetch.
  const archived = yield* Effect.either(archivedCopy)

  const fetchOnce = Effect.gen(function*() {
    yield* job.emit({ _tag: "ItemStarted", item, kind: "track" })
    return yield* Option.match(yield* archived, {
      onNone: () => fetch,
      onSome: (entry) => placeCopy(entry.path, entry.bytes, entry.sha256, alreadyThere)
    })
  }).pipe(
    Effect.catchAll((error) =>
      error._tag === "JobStoreError"
        ? Effect.fail(error)
        : Effect.succeed<TrackOutcome>({ state: "failed", reason: reasonOf(error) })
    ),
    (download) => downloadThenPostProcess(job, track, placement.library, download, finish, withPermits)
  )

  // A track the archive holds, whose file is whole right where this placement puts it, is done with
  // before it waits for a slot: re-running a finished library costs a stat per track, not a download's work.
  // (A file that could not be read takes the usual way, which says what is wrong.)
  const inPlace = Option.filter(Option.flatten(Either.getRight(archived)), (entry) => placedAs(entry.path) === entry.path)
  if (Option.isSome(inPlace)) {
    const { bytes, path, sha256 } = inPlace.value
    const outcome: TrackOutcome = { state: "skipped", path, bytes, sha256, reason: alreadyThere }
    if (job.tracks.settle(ref, outcome)) return yield* finish(outcome)
  }

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
