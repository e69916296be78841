import { Effect } from "effect"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failItem } from "./failItem.js"
import { albumTrackSegments } from "./libraryLayout.js"
import { lookupTracks } from "./lookupTracks.js"
import { runGroup } from "./runGroup.js"

/** Downloads one album into `<artist>/<album>/`, once per job however often it is named. */
export const downloadAlbum = (job: Job, provider: string, id: string, parent?: string) => {
  const item = `${provider}:album:${id}`
  const sequence = job.nextSequence()
  return job.groups.run(
    item,
    Effect.gen(function*() {
      const api = yield* MusicApi
      const album = yield* api.album(provider, id)
      const tracks = yield* lookupTracks(provider, album.trackIds, album.tracks)
      yield* runGroup(job, {
        item,
        kind: "album",
        label: `${album.artist} — ${album.title}`,
        parent,
        sequence,
        tracks,
        segmentsFor: (track, index) => albumTrackSegments(album.artist, album.title, track, index)
      })
    }).pipe(Effect.catchAll((error) => failItem(item, "album", error.message, parent)))
  ).pipe(Effect.asVoid)
}
