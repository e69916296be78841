import { formatDuration } from "../domain/Format.js"
import type { SimulationReport } from "./SimulationReport.js"
import { settingsFlags } from "./renderSummary.js"
import type { Candidate, Trial, TuneResult } from "./tune.js"

const quote = (text: string) => /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`

const flagsOf = (candidate: Candidate, settings: SimulationReport["settings"]) =>
  settingsFlags({
    albums: candidate.albums,
    tracks: candidate.tracks,
    tracksPerAlbum: candidate.tracksPerAlbum,
    api: candidate.api,
    rate: candidate.rate,
    burst: candidate.burst,
    retries: settings.retries,
    maxBandwidth: null,
    quality: settings.quality
  })

/** The recommendation as a command line: the job's inputs, the settings, and the `--sim` entries given. */
export const commandLine = (result: TuneResult, report: SimulationReport, simEntries: ReadonlyArray<string>) =>
  [
    "lyra download",
    ...report.inputs.map(quote),
    flagsOf(result.best.candidate, report.settings),
    ...(report.settings.maxBandwidth === null ? [] : [`--max-bandwidth ${report.settings.maxBandwidth}`]),
    ...simEntries.map((entry) => `--sim ${quote(entry)}`)
  ].join(" ")

/** The recommendation as settings, keyed as the flags are. */
export const configOf = (candidate: Candidate) => ({
  albums: candidate.albums,
  tracks: candidate.tracks,
  tracks_per_album: candidate.tracksPerAlbum,
  api: candidate.api,
  ...(candidate.rate === null ? {} : { rate: candidate.rate, burst: candidate.burst })
})

const trialLine = (label: string, trial: Trial, settings: SimulationReport["settings"]) =>
  `${label.padEnd(16)}${formatDuration(trial.makespanMillis).padStart(9)}${String(trial.rateLimited).padStart(6)}  ${
    flagsOf(trial.candidate, settings)
  }`

/** The terminal summary of a search. */
export const renderTune = (result: TuneResult, report: SimulationReport, simEntries: ReadonlyArray<string>) => {
  const settings = report.settings
  const { baseline, best } = result
  const speedup = best.makespanMillis > 0 ? baseline.makespanMillis / best.makespanMillis : 1
  const saved = baseline.makespanMillis > 0 ? 1 - best.makespanMillis / baseline.makespanMillis : 0
  const bound = Math.max(result.bounds.rateMillis ?? 0, result.bounds.bandwidthMillis ?? 0)
  const boundName = (result.bounds.rateMillis ?? 0) >= (result.bounds.bandwidthMillis ?? 0) ? "rate limit" : "bandwidth"
  const lines = [
    `lyra simulate --tune: ${result.trials.length} simulations, ${result.pruned} candidate${
      result.pruned === 1 ? "" : "s"
    } pruned by the bounds`
    + ` (a full grid would be ${result.gridSize.toLocaleString("en-US")})`,
    `goal: the shortest makespan with at most ${result.max429} × 429`,
    "",
    `${"".padEnd(16)}${"makespan".padStart(9)}${"429s".padStart(6)}  settings`,
    trialLine("defaults", baseline, settings),
    trialLine("recommended", best, settings),
    "",
    best === baseline
      ? "gain            none found: these settings are already the best tried"
      : `gain            ${speedup.toFixed(2)}× faster (${Math.round(saved * 100)}% less time, ${
        formatDuration(baseline.makespanMillis - best.makespanMillis)
      } saved), ${baseline.rateLimited} → ${best.rateLimited} × 429`,
    ...(bound > 0
      ? [`bound           ${formatDuration(bound)} (${boundName}): the recommendation is ${(best.makespanMillis / bound).toFixed(2)}× the bound`]
      : []),
    "",
    "command:",
    `  ${commandLine(result, report, simEntries)}`,
    "config:",
    `  ${JSON.stringify(configOf(best.candidate))}`,
    "",
    `${"trials".padEnd(16)}${"makespan".padStart(9)}${"429s".padStart(6)}  settings`,
    ...result.trials.map((trial, i) => trialLine(`${String(i + 1).padStart(2)} ${trial.phase}`, trial, settings))
  ]
  return lines.join("\n")
}

/** The search as data, for `--json`. */
export const tuneJson = (result: TuneResult, report: SimulationReport, simEntries: ReadonlyArray<string>) => ({
  max429: result.max429,
  baseline: result.baseline,
  recommended: result.best,
  speedup: result.best.makespanMillis > 0 ? Math.round(result.baseline.makespanMillis / result.best.makespanMillis * 1000) / 1000 : null,
  bounds: result.bounds,
  command: commandLine(result, report, simEntries),
  config: configOf(result.best.candidate),
  simulations: result.trials.length,
  pruned: result.pruned,
  gridSize: result.gridSize,
  trials: result.trials,
  report: result.bestReport
})
