import { Effect } from "effect"
import { MusicApi } from "../services/MusicApi.js"
import { Progress } from "../services/Progress.js"
import { downloadAlbum } from "./downloadAlbum.js"
import { downloadTrack } from "./downloadTrack.js"
import type { Job } from "./Job.js"
import { failItem } from "./failItem.js"

/**
 * Downloads every album of an artist, and any loose tracks it lists. Albums are numbered in the artist's
 * order as they are discovered, so the first ones take the album permits first.
 */
export const downloadArtist = (job: Job, provider: string, id: string) => {
  const item = `${provider}:artist:${id}`
  return job.groups.run(
    item,
    Effect.gen(function*() {
      const api = yield* MusicApi
      const progress = yield* Progress
      const artist = yield* api.artist(provider, id)
      yield* progress.publish({ _tag: "ItemQueued", item, kind: "artist", label: artist.name })
      yield* progress.publish({ _tag: "ItemStarted", item, kind: "artist" })
      yield* Effect.all([
        Effect.forEach(artist.albumIds, (albumId) => downloadAlbum(job, provider, albumId, item), {
          concurrency: "unbounded",
          discard: true
        }),
        Effect.forEach(artist.trackIds, (trackId) => downloadTrack(job, provider, trackId), {
          concurrency: "unbounded",
          discard: true
        })
      ], { concurrency: "unbounded", discard: true })
      const snapshot = yield* progress.snapshot
      const failed = artist.albumIds.filter((albumId) =>
        snapshot.items.get(`${provider}:album:${albumId}`)?.state === "failed"
      ).length
      yield* progress.publish({
        _tag: "ItemFinished",
        item,
        kind: "artist",
        ...(failed === 0
          ? { state: "done" as const }
          : { state: "failed" as const, reason: `${failed} of ${artist.albumIds.length} albums failed` })
      })
    }).pipe(Effect.catchAll((error) => failItem(item, "artist", error.message)))
  ).pipe(Effect.asVoid)
}
