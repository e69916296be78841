import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { Track } from "../domain/Track.js"
import * as PriorityPermits from "../engine/PriorityPermits.js"
import { JobStore } from "../services/JobStore.js"
import type { ApiError } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import type { TrackPlan } from "./libraryLayout.js"
import { placeTrack } from "./placeTrack.js"
import type { GroupArt } from "./postProcess.js"
import { makeGroupArt } from "./postProcess.js"
import { settleInPlace } from "./settleInPlace.js"

/** A group's tracks: fetched ones, and ids whose lookup failed. */
export type GroupTrack =
  | { readonly _tag: "Found"; readonly track: Track }
  | { readonly _tag: "Missing"; readonly id: string; readonly error: ApiError }

export interface Group {
  readonly item: string
  readonly kind: Extract<ItemKind, "album" | "playlist" | "track">
  readonly label: string
  readonly parent?: string | undefined
  /** Discovery order: lower takes track permits first. */
  readonly sequence: number
  readonly tracks: ReadonlyArray<GroupTrack>
  /** Where track `index` of the group goes (libraryLayout). */
  readonly planFor: (track: Track, index: number) => TrackPlan
}

/**
 * Each track's turn among its group's waiting tracks: the group's two longest first, so that neither can
 * start last and run on alone while the other slots idle; then the others in the group's order. Sorting
 * them all (LPT) would gather the short tracks, and their calls, at the album's end: worse under a rate
 * limit. Sizes are compared with sizes only: if any track lacks one, durations are used for all.
 */
const longestFirst = (tracks: ReadonlyArray<GroupTrack>): ReadonlyArray<number> => {
  const bySize = tracks.every((entry) => entry._tag !== "Found" || entry.track.sizeBytes !== undefined)
  const length = (entry: GroupTrack) =>
    entry._tag !== "Found" ? 0 : bySize ? entry.track.sizeBytes ?? 0 : entry.track.durationSeconds ?? 0
  const indices = tracks.map((_, index) => index)
  const first = [...indices].sort((a, b) => length(tracks[b]!) - length(tracks[a]!) || a - b).slice(0, 2)
  const order = [...first, ...indices.filter((index) => !first.includes(index))]
  const ranks = new Array<number>(tracks.length)
  order.forEach((index, rank) => (ranks[index] = rank))
  return ranks
}

/**
 * Downloads an album, a playlist or a single track, under the album-level
 * permit its caller holds, with at most `tracksPerAlbum` of its tracks in flight. A failing
 * track never stops its siblings; the group fails only if one of them did.
 */
export const runGroup = Effect.fn("runGroup")(function*(job: Job, group: Group) {
  const { item, kind } = group
  yield* job.emit({
    _tag: "ItemQueued",
    item,
    kind,
    label: group.label,
    ...(group.parent === undefined ? {} : { parent: group.parent })
  })
  const groupLimit = PriorityPermits.makeGroupLimit(job.settings.tracksPerAlbum)
  // One read of the archive for the whole group, not one per track.
  const archived = job.settings.force ? undefined : yield* (yield* JobStore).archivedAmong(
    group.tracks.flatMap((entry) => entry._tag === "Found" ? [entry.track] : [])
  )
  // Names are claimed in the group's order before any track starts, so that they are deterministic.
  const plans = group.tracks.map((entry, index) => {
    if (entry._tag === "Missing") return undefined
    const plan = group.planFor(entry.track, index)
    const owner = `${entry.track.provider}:track:${entry.track.id}`
    return { segments: job.names.claim(plan.segments, owner), albumFolder: plan.albumFolder }
  })
  // One track at a time, an album takes as long in any order, so it keeps track order, as OrpheusDL does.
  const sideBySide = Math.min(job.settings.tracks, job.settings.tracksPerAlbum) > 1
  const ranks = sideBySide ? longestFirst(group.tracks) : group.tracks.map((_, index) => index)
  yield* job.emit({ _tag: "ItemStarted", item, kind })
  const { copies, settled } = yield* settleInPlace(
    job,
    item,
    group.tracks.map((entry, index) =>
      entry._tag === "Missing" ? undefined : {
        track: entry.track,
        segments: plans[index]!.segments,
        archived: archived === undefined ? Option.none() : archived(entry.track.provider, entry.track.id)
      }
    )
  )
  // Settled placements have had their events: nothing failed there, and they need no fiber (nor covers).
  const unsettled = group.tracks.flatMap((entry, index) => settled[index] ? [] : [{ entry, index }])
  const placeAll = (art: GroupArt) =>
    Effect.forEach(
      unsettled,
      ({ entry, index }) => {
        if (entry._tag === "Found") {
          return placeTrack(job, {
            track: entry.track,
            segments: plans[index]!.segments,
            library: { art, albumFolder: plans[index]!.albumFolder },
            parent: item,
            priority: [group.sequence, ranks[index]!],
            groupLimit,
            archived: copies[index]!
          })
        }
        const missing = `${item}/track:${entry.id}`
        return job.emit({ _tag: "ItemQueued", item: missing, kind: "track", label: `track ${entry.id}`, parent: item })
          .pipe(
            Effect.zipRight(job.emit({
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
  const outcomes = unsettled.length === 0 ? [] : yield* Effect.flatMap(makeGroupArt, placeAll)
  const failed = outcomes.filter((outcome) => outcome?.state === "failed").length
  yield* job.emit({
    _tag: "ItemFinished",
    item,
    kind,
    ...(failed === 0
      ? { state: "done" as const }
      : { state: "failed" as const, reason: `${failed} of ${group.tracks.length} tracks failed` })
  })
})
