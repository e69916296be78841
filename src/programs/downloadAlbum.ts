import * as Effect from "effect/Effect"
import type { Artist } from "../domain/Artist.js"
import { albumSkipReason } from "../domain/ArtistFilters.js"
import { defaultSettings } from "../domain/Settings.js"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failedAs } from "./failItem.js"
import { albumLayout } from "./libraryLayout.js"
import { lookupTracks } from "./lookupTracks.js"
import { runGroup } from "./runGroup.js"
import { skipItem } from "./skipItem.js"

/**
 * Downloads one album into its `album_format` folder (under the artist's folder
 * when `artist` is the discography it is part of, and then only if the artist
 * filters keep it), once per job however often it is named.
 */
export const downloadAlbum = (job: Job, provider: string, id: string, parent?: string, artist?: Artist) => {
  const item = `${provider}:album:${id}`
  const sequence = job.nextSequence()
  return job.groups.run(
    item,
    Effect.gen(function*() {
      const api = yield* MusicApi
      const album = yield* api.album(provider, id)
      const settings = job.settings.library ?? defaultSettings
      const skip = artist === undefined ? undefined : albumSkipReason(settings, artist, album)
      if (skip !== undefined) return yield* skipItem(job, item, "album", `${album.artist} — ${album.title}`, skip, parent)
      const tracks = yield* lookupTracks(provider, album.trackIds, album.tracks)
      const found = tracks.flatMap((entry) => entry._tag === "Found" ? [entry.track] : [])
      yield* runGroup(job, {
        item,
        kind: "album",
        label: `${album.artist} — ${album.title}`,
        parent,
        sequence,
        tracks,
        planFor: albumLayout(settings, album, found, { artist: artist?.name })
      })
    }).pipe(
      // The album permit covers the metadata lookups too, so albums start (and finish) in discovery order.
      job.albumPermits.withPermit([sequence]),
      failedAs(job, item, "album", parent))
  ).pipe(Effect.asVoid)
}
