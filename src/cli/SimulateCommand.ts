import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { availableParallelism } from "node:os"
import { defaultJobSettings } from "../domain/JobSettings.js"
import { parseMillis } from "../domain/Units.js"
import { UsageError } from "../domain/UsageError.js"
import { defaultRetryPolicy } from "../layers/EngineLayer.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import { renderGantt } from "../simulation/GanttSvg.js"
import { renderSummary } from "../simulation/renderSummary.js"
import { renderTune, tuneJson } from "../simulation/renderTune.js"
import * as Scenario from "../simulation/Scenario.js"
import { simulate } from "../simulation/simulate.js"
import { fromRun } from "../simulation/SimulationReport.js"
import { tune } from "../simulation/tune.js"
import { jobOptions, limitSettingsOf } from "./JobOptions.js"

const inputs = Args.text({ name: "input" }).pipe(
  Args.repeated,
  Args.withDescription("What to download, as `lyra download` takes it (default: every artist of the simulated catalog).")
)

const simulateOptions = {
  albums: jobOptions.albums,
  tracks: jobOptions.tracks,
  tracksPerAlbum: jobOptions.tracksPerAlbum,
  api: jobOptions.api,
  rate: jobOptions.rate,
  burst: jobOptions.burst,
  quota: jobOptions.quota,
  onQuota: jobOptions.onQuota,
  maxBandwidth: jobOptions.maxBandwidth,
  retries: jobOptions.retries,
  quality: jobOptions.quality,
  cpu: jobOptions.cpu,
  tagCost: Options.text("tag-cost").pipe(
    Options.filterMap((text) => Option.fromNullable(parseMillis(text)), "--tag-cost: expected a duration such as 20ms"),
    Options.withDefault(0),
    Options.withDescription("CPU time tagging one file takes, in a pool of --cpu threads (default 0: not modelled).")
  ),
  sim: Options.keyValueMap("sim").pipe(
    Options.optional,
    Options.withDescription(
      "The service and its catalog, e.g. --sim rate-limit=20/s,burst=10 --sim latency=lognormal:40ms:0.4 "
        + "--sim bandwidth=4MB/s --sim connections=16 --sim error-rate=0.01 --sim artists=8 --sim tracks=6..14 "
        + `--sim seed=1 (keys: ${SimProfile.keys.join(", ")}; also LYRA_SIM_* variables).`
    )
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print the prediction (or the search) as JSON.")),
  svg: Options.text("svg").pipe(
    Options.optional,
    Options.withDescription("Also draw a Gantt chart of albums and tracks, with each level's use, to this SVG file.")
  ),
  tune: Options.boolean("tune").pipe(
    Options.withDescription("Search albums, tracks, API concurrency and --rate for the fastest job within --max-429.")
  ),
  max429: Options.integer("max-429").pipe(
    Options.filterMap((n) => n >= 0 ? Option.some(n) : Option.none(), "--max-429 must be 0 or more"),
    Options.withDefault(0),
    Options.withDescription("With --tune: the 429 answers a recommendation may draw.")
  )
}

/** `--sim` entries as `key=value` strings, in the order given. */
const simEntries = (sim: Option.Option<ReadonlyMap<string, string> | Iterable<readonly [string, string]>>) =>
  Option.match(sim, { onNone: () => [], onSome: (map) => [...map].map(([key, value]) => `${key}=${value}`) })

/**
 * `lyra simulate`: runs the download job on the simulated service in virtual
 * time and predicts it: makespan, requests, 429s, retries, the use of each
 * level over time, and a Gantt chart. With `--tune`, searches for the best
 * settings. Same inputs and seed, same output, byte for byte.
 */
export const simulateCommand = Command.make(
  "simulate",
  { inputs, ...simulateOptions },
  Effect.fn("lyra simulate")(function*(options) {
    const entries = simEntries(options.sim)
    const profile = yield* Effect.flatMap(SimProfile.fromConfig(Scenario.defaultProfile), (base) =>
      SimProfile.applyEntries(entries, base))
    const scenario = Scenario.make({
      profile,
      ...(options.inputs.length > 0 ? { inputs: options.inputs } : {}),
      settings: {
        ...defaultJobSettings,
        quality: options.quality,
        albums: options.albums,
        tracks: options.tracks,
        tracksPerAlbum: Option.getOrElse(options.tracksPerAlbum, () => options.tracks)
      },
      limits: limitSettingsOf(options),
      retry: { ...defaultRetryPolicy, retries: options.retries },
      tagging: { costMillis: options.tagCost, threads: Option.getOrElse(options.cpu, () => availableParallelism()) }
    })
    if (options.tune) {
      const result = yield* tune(scenario, {
        max429: options.max429,
        onTrial: (trial, index) =>
          Console.error(`lyra simulate --tune: trial ${index} (${trial.phase}): ${trial.makespanMillis} ms, ${trial.rateLimited} × 429`)
      })
      const report = result.bestReport
      yield* Console.log(
        options.json ? JSON.stringify(tuneJson(result, report, entries), null, 2) : renderTune(result, report, entries)
      )
      return
    }
    const run = yield* simulate(scenario)
    const report = fromRun(run)
    if (Option.isSome(options.svg)) {
      const file = options.svg.value
      const fs = yield* FileSystem.FileSystem
      yield* fs.writeFileString(file, renderGantt(run, report)).pipe(
        Effect.mapError((error) => new UsageError({ message: `--svg ${file}: ${error.message}` }))
      )
    }
    yield* Console.log(options.json ? JSON.stringify(report, null, 2) : renderSummary(report))
  })
).pipe(
  Command.withDescription(
    "Predict a download job on a simulated service in virtual time: makespan, requests, 429s, each level's use; "
      + "--tune finds the fastest settings."
  )
)
