import * as Effect from "effect/Effect"
import { defaultSettings } from "../domain/Settings.js"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failedAs } from "./failItem.js"
import { playlistLayout } from "./libraryLayout.js"
import { lookupTracks } from "./lookupTracks.js"
import { runGroup } from "./runGroup.js"

/** Downloads a playlist into its `playlist_format` folder, numbered in playlist order. */
export const downloadPlaylist = (job: Job, provider: string, id: string) => {
  const item = `${provider}:playlist:${id}`
  const sequence = job.nextSequence()
  return job.groups.run(
    item,
    Effect.gen(function*() {
      const api = yield* MusicApi
      const playlist = yield* api.playlist(provider, id)
      const tracks = yield* lookupTracks(provider, playlist.trackIds, playlist.tracks)
      yield* runGroup(job, {
        item,
        kind: "playlist",
        label: playlist.creator === undefined ? playlist.name : `${playlist.name} (by ${playlist.creator})`,
        sequence,
        tracks,
        planFor: playlistLayout(job.settings.library ?? defaultSettings, playlist, playlist.trackIds.length)
      })
    }).pipe(
      // The album permit covers the metadata lookups too, so albums start (and finish) in discovery order.
      job.albumPermits.withPermit([sequence]),
      failedAs(job, item, "playlist"))
  ).pipe(Effect.asVoid)
}
