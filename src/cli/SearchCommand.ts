import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MediaKind } from "../domain/MediaRef.js"
import type { SearchResult } from "../domain/SearchResult.js"
import { download } from "../programs/download.js"
import { MusicApi } from "../services/MusicApi.js"
import { engineLayer } from "./engineLayer.js"
import { refuseOptionLike } from "./refuseOptionLike.js"
import { JobIncomplete } from "./JobIncomplete.js"
import { jobOptions, jobSettingsOf } from "./JobOptions.js"
import { toStored } from "./StoredOptions.js"

const provider = Args.text({ name: "provider" }).pipe(Args.withDescription("The provider to search, e.g. sim."))
const kind = Args.choice(MediaKind.literals.map((k) => [k, k] as const), { name: "kind" }).pipe(
  Args.withDescription("What to search for: track, album, artist or playlist.")
)
const query = Args.text({ name: "query" }).pipe(Args.atLeast(1), refuseOptionLike, Args.withDescription("Words to search for."))

const searchOptions = {
  json: Options.boolean("json").pipe(Options.withDescription("Print the results as JSON.")),
  lucky: Options.boolean("lucky").pipe(Options.withDescription("Download the first result, like OrpheusDL's luckysearch.")),
  limit: Options.integer("limit").pipe(
    Options.filterMap((n) => n >= 1 && n <= 100 ? Option.some(n) : Option.none(), "--limit must be from 1 to 100"),
    Options.withDefault(10),
    Options.withDescription("How many results to show.")
  )
}

const pad = (text: string, width: number) => text.length >= width ? text : text + " ".repeat(width - text.length)

/** A numbered table of id, name, artists and year. */
export const formatResults = (results: ReadonlyArray<SearchResult>): string => {
  if (results.length === 0) return "No results."
  const rows = results.map((r, i) => [String(i + 1), r.id, r.name, r.artists.join(", "), r.year?.toString() ?? ""])
  const header = ["#", "id", "name", "artists", "year"]
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => Math.min(40, row[c]!.length))))
  const cut = (text: string, width: number) => text.length > width ? `${text.slice(0, width - 1)}…` : text
  return [header, ...rows].map((row) => row.map((cell, c) => pad(cut(cell, widths[c]!), widths[c]!)).join("  ").trimEnd())
    .join("\n")
}

/** `lyra search <provider> <kind> <query...>`, and `--lucky` to download the first hit. */
export const searchCommand = Command.make(
  "search",
  { provider, kind, query, ...searchOptions, ...jobOptions },
  Effect.fn("lyra search")(function*(options) {
    const api = yield* MusicApi
    const ref = yield* api.resolve(`${options.provider}:${options.kind}:search`)
    const results = yield* api.search(ref.provider, options.kind, options.query.join(" "), options.limit)
    if (!options.lucky) {
      return yield* Console.log(options.json ? JSON.stringify(results, null, 2) : formatResults(results))
    }
    const first = results[0]
    if (first === undefined) return yield* Console.log("No results; nothing to download.")
    const report = yield* download([`${first.provider}:${first.kind}:${first.id}`], jobSettingsOf(options), {
      record: { options: toStored(options) }
    })
    if (!report.succeeded) return yield* new JobIncomplete({ failed: report.failed })
  })
).pipe(
  Command.withDescription("Search a provider and print a numbered table; --lucky downloads the first hit."),
  // Only --lucky downloads: a plain search keeps no job state, so it leaves no library folder behind.
  Command.provide((options) => engineLayer(options.lucky ? options : { ...options, noState: true }))
)
