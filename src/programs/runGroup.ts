import { Effect } from "effect"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { Track } from "../domain/Track.js"
import type { ApiError } from "../services/MusicApi.js"
import { Progress } from "../services/Progress.js"
import type { Job } from "./Job.js"
import { placeTrack } from "./placeTrack.js"

/** A group's tracks: fetched ones, and ids whose lookup failed. */
export type GroupTrack =
  | { readonly _tag: "Found"; readonly track: Track }
  | { readonly _tag: "Missing"; readonly id: string; readonly error: ApiError }

export interface Group {
  readonly item: string
  readonly kind: Extract<ItemKind, "album" | "playlist" | "track">
  readonly label: string
  readonly parent?: string | undefined
  /** Discovery order: lower takes an album permit (and track permits) first. */
  readonly sequence: number
  readonly tracks: ReadonlyArray<GroupTrack>
  /** Where track `index` of the group goes: folders, then the file stem. */
  readonly segmentsFor: (track: Track, index: number) => ReadonlyArray<string>
}

/**
 * Downloads an album, a playlist or a single track under one album-level
 * permit, with at most `tracksPerAlbum` of its tracks in flight. A failing
 * track never stops its siblings; the group fails only if one of them did.
 */
export const runGroup = Effect.fn("runGroup")(function*(job: Job, group: Group) {
  const progress = yield* Progress
  const { item, kind } = group
  yield* progress.publish({
    _tag: "ItemQueued",
    item,
    kind,
    label: group.label,
    ...(group.parent === undefined ? {} : { parent: group.parent })
  })
  const groupPermits = yield* Effect.makeSemaphore(job.settings.tracksPerAlbum)
  const placeAll = Effect.forEach(
    group.tracks,
    (entry, index) => {
      if (entry._tag === "Found") {
        return placeTrack(job, {
          track: entry.track,
          segments: group.segmentsFor(entry.track, index),
          parent: item,
          priority: [group.sequence, index],
          groupPermits
        })
      }
      const missing = `${item}/track:${entry.id}`
      return progress.publish({ _tag: "ItemQueued", item: missing, kind: "track", label: `track ${entry.id}`, parent: item })
        .pipe(
          Effect.zipRight(progress.publish({
            _tag: "ItemFinished",
            item: missing,
            kind: "track",
            state: "failed",
            reason: entry.error.message
          })),
          Effect.as({ state: "failed" as const })
        )
    },
    { concurrency: "unbounded" }
  )
  yield* Effect.gen(function*() {
    yield* progress.publish({ _tag: "ItemStarted", item, kind })
    const outcomes = yield* placeAll
    const failed = outcomes.filter((outcome) => outcome?.state === "failed").length
    yield* progress.publish({
      _tag: "ItemFinished",
      item,
      kind,
      ...(failed === 0
        ? { state: "done" as const }
        : { state: "failed" as const, reason: `${failed} of ${group.tracks.length} tracks failed` })
    })
  }).pipe(job.albumPermits.withPermit([group.sequence]))
})
