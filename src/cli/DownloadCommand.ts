import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { download } from "../programs/download.js"
import { engineLayer } from "./engineLayer.js"
import { refuseOptionLike } from "./refuseOptionLike.js"
import { JobIncomplete } from "./JobIncomplete.js"
import { jobOptions, jobSettingsOf } from "./JobOptions.js"
import { toStored } from "./StoredOptions.js"

const inputs = Args.text({ name: "input" }).pipe(
  Args.atLeast(1),
  refuseOptionLike,
  Args.withDescription(
    "What to download: <provider>:<kind>:<id> (kind is track, album, artist or playlist), e.g. sim:artist:1, "
      + "or a provider URL such as https://sim.lyra/album/3."
  )
)

/** `lyra download <input...>`: the main job. */
export const downloadCommand = Command.make(
  "download",
  { inputs, ...jobOptions },
  Effect.fn("lyra download")(function*(options) {
    const report = yield* download(options.inputs, jobSettingsOf(options), { record: { options: toStored(options) } })
    if (!report.succeeded) return yield* new JobIncomplete({ failed: report.failed })
  })
).pipe(
  Command.withDescription("Download tracks, albums, artists or playlists into the library, concurrently."),
  Command.provide((options) => engineLayer(options))
)
