import type { ProgressEventInput } from "../domain/ProgressEvent.js"
import type { Track } from "../domain/Track.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/** A track placement's first event: queued under its group, labelled with its file name. */
export const trackQueued = (
  item: string,
  track: Track,
  segments: ReadonlyArray<string>,
  parent: string
): ProgressEventInput => ({
  _tag: "ItemQueued",
  item,
  kind: "track",
  label: segments[segments.length - 1] ?? track.title,
  parent,
  ...(track.sizeBytes === undefined ? {} : { sizeBytes: track.sizeBytes })
})

/** A track placement's last event: how it ended. */
export const trackFinished = (item: string, outcome: TrackOutcome): ProgressEventInput => ({
  _tag: "ItemFinished",
  item,
  kind: "track",
  state: outcome.state,
  ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
  ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
  ...(outcome.path === undefined ? {} : { path: outcome.path }),
  ...(outcome.sha256 === undefined ? {} : { sha256: outcome.sha256 })
})

/** Why a track that is already in place is skipped. */
export const alreadyInLibrary = "already in the library"
