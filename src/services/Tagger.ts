import type * as Effect from "effect/Effect"
import * as Context from "effect/Context"
import type { CoverArt } from "../domain/Artwork.js"
import type { TrackTags } from "../domain/TrackTags.js"
import type { TagError } from "./TagError.js"

/**
 * Writes tags, and a cover, into finished files of the library (FLAC, MP3,
 * M4A, Ogg Vorbis and Opus). Paths are relative to the library root, as
 * Storage takes them. Tagging is CPU work: an implementation runs it in its own
 * bounded pool, off the fibers that move bytes, and replaces a file only once
 * it is fully tagged.
 */
export class Tagger extends Context.Tag("lyra/Tagger")<Tagger, {
  /** Tags the finished file at `path`; answers what is on disk now (undefined: the store does not say). */
  readonly write: (
    path: string,
    tags: TrackTags,
    cover: CoverArt | undefined
  ) => Effect.Effect<TaggedFile | undefined, TagError>
}>() {}

/** A tagged file: its size and sha256 now, for the archive. */
export interface TaggedFile {
  readonly bytes: number
  readonly sha256: string
}
