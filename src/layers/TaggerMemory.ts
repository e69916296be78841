import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { CoverArt } from "../domain/Artwork.js"
import type { TrackTags } from "../domain/TrackTags.js"
import { TagError } from "../services/TagError.js"
import { Tagger } from "../services/Tagger.js"

/** One file tagged, as the memory tagger saw it. */
export interface TagWrite {
  readonly path: string
  readonly tags: TrackTags
  readonly cover: CoverArt | undefined
}

/** What a memory tagger was asked to write, in order: for tests and simulations. */
export class TaggerMemory extends Context.Tag("lyra/TaggerMemory")<TaggerMemory, {
  readonly writes: Effect.Effect<ReadonlyArray<TagWrite>>
}>() {}

export interface TaggerMemoryOptions {
  /** Paths that cannot be tagged, with the reason each gives. */
  readonly refuse?: (path: string) => string | undefined
}

/** A Tagger that records what it is asked to write and touches no file; each build starts empty. */
export const layer = (options: TaggerMemoryOptions = {}): Layer.Layer<Tagger | TaggerMemory> =>
  Layer.effectContext(Effect.sync(() => {
    const writes: Array<TagWrite> = []
    const tagger = Tagger.of({
      write: (path, tags, cover) =>
        Effect.suspend(() => {
          const reason = options.refuse?.(path)
          if (reason !== undefined) return Effect.fail(new TagError({ path, reason }))
          writes.push({ path, tags, cover })
          return Effect.succeed(undefined)
        })
    })
    return Context.make(Tagger, tagger).pipe(
      Context.add(TaggerMemory, { writes: Effect.sync(() => [...writes]) })
    )
  }))
