import * as Effect from "effect/Effect"
import type { Track } from "../domain/Track.js"
import { MusicApi } from "../services/MusicApi.js"
import type { GroupTrack } from "./runGroup.js"

/**
 * A group's tracks: the ones it listed inline, or one batched lookup for its
 * ids. A failed lookup is a missing track, not a failed group.
 */
export const lookupTracks = Effect.fn("lookupTracks")(function*(
  provider: string,
  ids: ReadonlyArray<string>,
  inline: ReadonlyArray<Track> | undefined
) {
  if (inline !== undefined) {
    return inline.map((track): GroupTrack => ({ _tag: "Found", track }))
  }
  const api = yield* MusicApi
  return yield* Effect.forEach(
    ids,
    (id) =>
      api.track(provider, id).pipe(
        Effect.map((track): GroupTrack => ({ _tag: "Found", track })),
        Effect.catchAll((error) => Effect.succeed<GroupTrack>({ _tag: "Missing", id, error }))
      ),
    // Sequential with batching, Effect steps each lookup until it waits on its request and batches
    // them all, as "unbounded" does, but in one fiber rather than one per id.
    { batching: true }
  )
})
