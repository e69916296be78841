import { Effect } from "effect"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failItem } from "./failItem.js"
import { singleTrackSegments } from "./libraryLayout.js"
import { runGroup } from "./runGroup.js"

/** Downloads one track, named on its own, into its album's folder. */
export const downloadTrack = (job: Job, provider: string, id: string) => {
  const item = `${provider}:single:${id}`
  const sequence = job.nextSequence()
  return Effect.gen(function*() {
    const api = yield* MusicApi
    const track = yield* api.track(provider, id)
    yield* runGroup(job, {
      item,
      kind: "track",
      label: `${track.artists.join(", ")} — ${track.title}`,
      sequence,
      tracks: [{ _tag: "Found", track }],
      segmentsFor: singleTrackSegments
    })
  }).pipe(Effect.catchAll((error) => failItem(`${provider}:track:${id}`, "track", error.message)))
}
