import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { MusicApi } from "../services/MusicApi.js"
import { engineLayer } from "./engineLayer.js"
import { jobOptions } from "./JobOptions.js"

/** `lyra providers`: what each provider can do. */
export const providersCommand = Command.make(
  "providers",
  // `--json` (from the output options) prints the providers as JSON.
  { ...jobOptions },
  Effect.fn("lyra providers")(function*(options) {
    const api = yield* MusicApi
    if (options.json) {
      return yield* Console.log(JSON.stringify(api.providers, null, 2))
    }
    for (const provider of api.providers) {
      const c = provider.capabilities
      const features = [c.search && "search", c.batchTracks && "batch lookups", c.cover && "covers", c.lyrics && "lyrics"]
        .filter(Boolean)
        .join(", ")
      yield* Console.log(`${provider.name}  ${provider.description}`)
      yield* Console.log(`  kinds:    ${c.kinds.join(", ")}`)
      yield* Console.log(`  features: ${features || "none"}`)
      yield* Console.log(`  inputs:   ${[`${provider.name}:<kind>:<id>`, ...c.urlForms].join("  |  ")}`)
    }
  })
).pipe(
  Command.withDescription("List the providers and their capabilities."),
  // Listing providers writes nothing: no job state, so no library folder in the working directory.
  Command.provide((options) => engineLayer({ ...options, noState: true }))
)
