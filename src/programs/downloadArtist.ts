import * as Effect from "effect/Effect"
import type { Artist } from "../domain/Artist.js"
import { defaultSettings } from "../domain/Settings.js"
import { MusicApi } from "../services/MusicApi.js"
import { Progress } from "../services/Progress.js"
import { downloadAlbum } from "./downloadAlbum.js"
import { downloadTrack } from "./downloadTrack.js"
import type { Job } from "./Job.js"
import { failedAs } from "./failItem.js"

/**
 * An artist's loose tracks to download: with `separate_tracks_skip_downloaded`,
 * those none of its albums holds (the album lookups are the ones its albums
 * make, so they cost nothing more).
 */
const looseTracks = (job: Job, provider: string, artist: Artist) =>
  Effect.gen(function*() {
    const settings = job.settings.library ?? defaultSettings
    if (!settings.separateTracksSkipDownloaded || artist.trackIds.length === 0) return artist.trackIds
    const api = yield* MusicApi
    const albums = yield* Effect.forEach(artist.albumIds, (albumId) => Effect.option(api.album(provider, albumId)), {
      concurrency: "unbounded"
    })
    const held = new Set(albums.flatMap((album) => album._tag === "Some" ? album.value.trackIds : []))
    return artist.trackIds.filter((trackId) => !held.has(trackId))
  })

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
      yield* job.emit({ _tag: "ItemQueued", item, kind: "artist", label: artist.name })
      yield* job.emit({ _tag: "ItemStarted", item, kind: "artist" })
      yield* Effect.all([
        Effect.forEach(artist.albumIds, (albumId) => downloadAlbum(job, provider, albumId, item, artist), {
          concurrency: "unbounded",
          discard: true
        }),
        Effect.flatMap(looseTracks(job, provider, artist), (trackIds) =>
          Effect.forEach(trackIds, (trackId) => downloadTrack(job, provider, trackId, artist.name), {
            concurrency: "unbounded",
            discard: true
          }))
      ], { concurrency: "unbounded", discard: true })
      const snapshot = yield* progress.snapshot
      const failed = artist.albumIds.filter((albumId) =>
        snapshot.items.get(`${provider}:album:${albumId}`)?.state === "failed"
      ).length
      yield* job.emit({
        _tag: "ItemFinished",
        item,
        kind: "artist",
        ...(failed === 0
          ? { state: "done" as const }
          : { state: "failed" as const, reason: `${failed} of ${artist.albumIds.length} albums failed` })
      })
    }).pipe(failedAs(job, item, "artist"))
  ).pipe(Effect.asVoid)
}
