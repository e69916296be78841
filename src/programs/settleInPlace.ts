import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ProgressEventInput } from "../domain/ProgressEvent.js"
import { planPath } from "../domain/SafePath.js"
import type { Track } from "../domain/Track.js"
import type { ArchiveEntry } from "../services/JobStore.js"
import { Storage } from "../services/Storage.js"
import type { StorageError } from "../services/StorageError.js"
import type { Job } from "./Job.js"
import { alreadyInLibrary, trackFinished, trackQueued } from "./trackEvents.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/** The archive's copy of a track if its file is still whole on disk, or why that could not be told. */
export type ArchivedCopy = Either.Either<Option.Option<ArchiveEntry>, StorageError>

/** A group's track, as settleInPlace sees it. */
export interface Candidate {
  readonly track: Track
  /** Folder names, then the file stem, as the group planned them. */
  readonly segments: ReadonlyArray<string>
  /** The archive's entry for the track, none if it holds none (or with `force`). */
  readonly archived: Option.Option<ArchiveEntry>
}

const extensionOf = (path: string) => path.slice(path.lastIndexOf(".") + 1)

/** Where a placement puts a file that has `from`'s extension. */
export const placedAs = (segments: ReadonlyArray<string>, from: string) => planPath(segments, extensionOf(from))

/** The finished sizes of `paths`, each looked at once and all together, as a lookup by path. */
const sizesAt = (storage: Storage["Type"], paths: ReadonlyArray<string>) => {
  const distinct = [...new Set(paths)]
  return Effect.map(storage.finalSizes(distinct), (sizes) => {
    const byPath = new Map(distinct.map((path, index) => [path, sizes[index]!]))
    return (path: string) => byPath.get(path)!
  })
}

/**
 * Checks the archive's copy of each of a group's tracks on disk, and settles at
 * once every placement whose file is already whole where it goes (the
 * archive's own, or a copy of it): queued and skipped in one pass, with no
 * fiber, slot or lookup of its own. A re-run of a finished library is all such
 * placements. Answers each candidate's copy, and whether it was settled; a
 * placement left unsettled is placeTrack's.
 */
export const settleInPlace = Effect.fn("settleInPlace")(function*(
  job: Job,
  parent: string,
  candidates: ReadonlyArray<Candidate | undefined>
) {
  const entries = candidates.map((candidate) => candidate === undefined ? Option.none() : candidate.archived)
  const held = entries.flatMap((entry) => Option.isSome(entry) ? [entry.value.path] : [])
  const storage = yield* Storage
  const sizeOf = yield* sizesAt(storage, held)
  // The archive's copy counts only while its file is whole.
  const copies = entries.map((entry): ArchivedCopy =>
    Option.match(entry, {
      onNone: () => Either.right(Option.none()),
      onSome: (archived) =>
        Either.map(sizeOf(archived.path), (size) => size === archived.bytes ? Option.some(archived) : Option.none())
    })
  )
  // Where each whole copy goes for this placement; one placed elsewhere (a compilation's track) may be here too.
  const targets = candidates.map((candidate, index) => {
    const copy = copies[index]!
    if (candidate === undefined || Either.isLeft(copy) || Option.isNone(copy.right)) return undefined
    return { candidate, entry: copy.right.value, path: placedAs(candidate.segments, copy.right.value.path) }
  })
  const elsewhere = targets.flatMap((target) => target !== undefined && target.path !== target.entry.path ? [target.path] : [])
  const sizeHere = yield* sizesAt(storage, elsewhere)
  const events: Array<ProgressEventInput> = []
  const settled = targets.map((target) => {
    if (target === undefined) return false
    const { candidate: { segments, track }, entry, path } = target
    const ref = `${track.provider}:track:${track.id}`
    const outcome: TrackOutcome = { state: "skipped", path, bytes: entry.bytes, sha256: entry.sha256, reason: alreadyInLibrary }
    if (path === entry.path) {
      // Another placement already runs the track: this one waits for it, as placeTrack does.
      if (!job.tracks.settle(ref, outcome)) return false
    } else {
      // A copy already whole here needs nothing from the placement that fetches (or skips) the track.
      const here = sizeHere(path)
      if (Either.isLeft(here) || here.right !== entry.bytes) return false
    }
    const { isNew, item } = job.placementId(ref, segments.join("/"))
    if (isNew) events.push(trackQueued(item, track, segments, parent), trackFinished(item, outcome))
    return true
  })
  yield* Effect.forEach(events, job.emit, { discard: true })
  return { copies, settled }
})
