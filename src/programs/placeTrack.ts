import { Effect } from "effect"
import { planPath } from "../domain/SafePath.js"
import type { Track } from "../domain/Track.js"
import type { Priority } from "../engine/PriorityPermits.js"
import { MusicApi } from "../services/MusicApi.js"
import { Progress } from "../services/Progress.js"
import { Storage } from "../services/Storage.js"
import type { Job } from "./Job.js"
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
  /** The group's own cap on tracks in flight (t). */
  readonly groupPermits: Effect.Semaphore
}

const trackRef = (track: Track) => `${track.provider}:track:${track.id}`

const extensionOf = (path: string) => path.slice(path.lastIndexOf(".") + 1)

/** The message of any failure, for an item's reason. */
const reasonOf = (error: { readonly message: string }) => error.message

/**
 * Downloads a track once per job however often it is named: the first
 * placement fetches it under the group, track and API levels; any other
 * placement waits for that, holding no track permit, then copies the file if it
 * belongs elsewhere. Never fails: every placement ends done, skipped or failed
 * (`undefined` for a placement the job already has).
 */
export const placeTrack = Effect.fn("placeTrack")(function*(job: Job, placement: Placement) {
  const progress = yield* Progress
  const storage = yield* Storage
  const api = yield* MusicApi
  const { track } = placement
  const ref = trackRef(track)
  const { isNew, item } = job.placementId(ref, placement.segments.join("/"))
  if (!isNew) return undefined
  yield* progress.publish({
    _tag: "ItemQueued",
    item,
    kind: "track",
    label: placement.segments[placement.segments.length - 1] ?? track.title,
    parent: placement.parent,
    ...(track.sizeBytes === undefined ? {} : { sizeBytes: track.sizeBytes })
  })
  const finish = (outcome: TrackOutcome) =>
    progress.publish({
      _tag: "ItemFinished",
      item,
      kind: "track",
      state: outcome.state,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes })
    }).pipe(Effect.as(outcome))

  // Group permit, then track permit: the fixed order that rules out lock cycles.
  const withPermits = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(job.trackPermits.withPermit(placement.priority), placement.groupPermits.withPermits(1))

  const fetchOnce = Effect.gen(function*() {
    yield* progress.publish({ _tag: "ItemStarted", item, kind: "track" })
    const source = yield* api.source(track, job.settings.quality)
    const path = planPath(placement.segments, source.container)
    const existing = yield* storage.inspect(path)
    if (
      existing.finalBytes !== undefined && (source.sizeBytes === undefined || existing.finalBytes === source.sizeBytes)
    ) {
      return { state: "skipped", path, bytes: existing.finalBytes, reason: "already in the library" } as const
    }
    const bytes = yield* transferTrack(item, track, source, path)
    return { state: "done", path, bytes } as const
  }).pipe(
    Effect.catchAll((error) => Effect.succeed<TrackOutcome>({ state: "failed", reason: reasonOf(error) })),
    Effect.flatMap(finish),
    withPermits
  )

  const { owner, value: first } = yield* job.tracks.run(ref, fetchOnce)
  if (owner) return first

  // Another placement fetched it: copy its file here, unless it is the same file.
  const place = Effect.gen(function*() {
    yield* progress.publish({ _tag: "ItemStarted", item, kind: "track" })
    if (first.path === undefined) {
      return yield* finish({ state: "failed", reason: first.reason ?? "not fetched" })
    }
    const path = planPath(placement.segments, extensionOf(first.path))
    if (path === first.path) {
      return yield* finish({ state: "skipped", path, reason: "the same file is placed by another item" })
    }
    return yield* finish(
      yield* storage.copy(first.path, path).pipe(
        Effect.as<TrackOutcome>({ state: "done", path, bytes: first.bytes, reason: `copied from ${first.path}` }),
        Effect.catchAll((error) => Effect.succeed<TrackOutcome>({ state: "failed", reason: reasonOf(error) }))
      )
    )
  })
  return yield* place.pipe(withPermits)
})
