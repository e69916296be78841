import * as Effect from "effect/Effect"
import { defaultSettings } from "../domain/Settings.js"
import { MusicApi } from "../services/MusicApi.js"
import type { Job } from "./Job.js"
import { failedAs } from "./failItem.js"
import { singleLayout } from "./libraryLayout.js"
import { runGroup } from "./runGroup.js"

/**
 * Downloads one track, named on its own, as `single_full_path_format` says
 * (in the folder of `artist` when it is one of an artist's loose tracks).
 */
export const downloadTrack = (job: Job, provider: string, id: string, artist?: string) => {
  const item = `${provider}:single:${id}`
  const sequence = job.nextSequence()
  // Once per job however often it is named, like an album: its items must end exactly once.
  return job.groups.run(
    item,
    Effect.gen(function*() {
      const api = yield* MusicApi
      const track = yield* api.track(provider, id)
      yield* runGroup(job, {
        item,
        kind: "track",
        label: `${track.artists.join(", ")} — ${track.title}`,
        sequence,
        tracks: [{ _tag: "Found", track }],
        planFor: (track) => singleLayout(job.settings.library ?? defaultSettings, track, { artist })
      })
    }).pipe(
      // The album permit covers the metadata lookups too, so albums start (and finish) in discovery order.
      job.albumPermits.withPermit([sequence]),
      failedAs(job, `${provider}:track:${id}`, "track"))
  ).pipe(Effect.asVoid)
}
