import { Effect } from "effect"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failItem } from "./failItem.js"
import { playlistTrackSegments } from "./libraryLayout.js"
import { lookupTracks } from "./lookupTracks.js"
import { runGroup } from "./runGroup.js"

/** Downloads a playlist into `<playlist>/`, numbered in playlist order. */
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
        segmentsFor: (track, index) => playlistTrackSegments(playlist.name, track, index)
      })
    }).pipe(Effect.catchAll((error) => failItem(item, "playlist", error.message)))
  ).pipe(Effect.asVoid)
}
