import { formatBytes, formatDuration, formatRate } from "../domain/Format.js"
import { defaultJobSettings } from "../domain/JobSettings.js"
import type { LevelReport, SimulationReport } from "./SimulationReport.js"

const bars = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const

/** One character per value, scaled to `top`: blank for nothing, a full block at `top`. */
export const sparkline = (values: ReadonlyArray<number>, top: number): string =>
  values.map((value) => {
    if (!(value > 0) || !(top > 0)) return " "
    const index = Math.min(bars.length - 1, Math.max(0, Math.ceil((value / top) * bars.length) - 1))
    return bars[index]
  }).join("")

/** Flags that reproduce the settings, as `lyra download` takes them. */
export const settingsFlags = (settings: SimulationReport["settings"]): string =>
  [
    `--albums ${settings.albums}`,
    `--tracks ${settings.tracks}`,
    `--tracks-per-album ${settings.tracksPerAlbum}`,
    `--api ${settings.api}`,
    ...(settings.rate === null ? [] : [`--rate ${+settings.rate.toFixed(3)}`, `--burst ${settings.burst}`]),
    `--retries ${settings.retries}`,
    ...(settings.maxBandwidth === null ? [] : [`--max-bandwidth ${settings.maxBandwidth}`]),
    ...(settings.quality === defaultJobSettings.quality ? [] : [`--quality ${settings.quality}`])
  ].join(" ")

const labels: Record<LevelReport["name"], string> = {
  albums: "albums",
  tracks: "tracks",
  api: "api calls",
  transfers: "transfers"
}

const pad = (text: string, width: number) => text.padStart(width)

const columns = (name: string, limit: string, peak: string, mean: string, use: string) =>
  `${name.padEnd(10)}${pad(limit, 5)}${pad(peak, 6)}${pad(mean, 6)}${pad(use, 6)}  `

const levelLine = (level: LevelReport) =>
  columns(
    labels[level.name],
    level.limit === null ? "-" : String(level.limit),
    String(level.peak),
    level.mean.toFixed(1),
    level.utilization === null ? "-" : `${Math.round(level.utilization * 100)}%`
  ) + sparkline(level.series, level.limit ?? level.peak)

/** The terminal summary of a simulation: plain text, the same bytes for the same report. */
export const renderSummary = (report: SimulationReport): string => {
  const endpoints = Object.entries(report.requests.byEndpoint)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([endpoint, count]) => `${endpoint} ${count}`)
    .join(", ")
  const bounds = [
    report.bounds.rateMillis === null ? undefined : `${formatDuration(report.bounds.rateMillis)} (rate limit)`,
    report.bounds.bandwidthMillis === null ? undefined : `${formatDuration(report.bounds.bandwidthMillis)} (bandwidth)`
  ].filter((part) => part !== undefined)
  const lines = [
    `lyra simulate: predicted in virtual time (seed ${report.service.seed})`,
    "",
    `service   ${report.service.profile}`,
    `settings  ${settingsFlags(report.settings)}${report.settings.rate === null ? "  (pace: adaptive)" : ""}`,
    `catalog   ${report.catalog.groups} albums, ${report.catalog.tracks} tracks`
    + (report.catalog.placements === report.catalog.tracks ? "" : ` (${report.catalog.placements} placements)`)
    + `, ${formatBytes(report.catalog.bytes)}`
    + ` (${report.inputs.length} input${report.inputs.length === 1 ? "" : "s"})`,
    "",
    `makespan  ${formatDuration(report.makespanMillis)}   ${report.done} done, ${report.skipped} skipped, ${report.failed} failed`,
    ...(bounds.length === 0
      ? []
      : [`bound     ${bounds.join(" · ")}${report.bounds.ratio === null ? "" : `: ${report.bounds.ratio.toFixed(2)}× the bound`}`]),
    `requests  ${report.requests.total}: ${endpoints}`,
    `          429s ${report.requests.rateLimited} · faults ${report.requests.faults} · retries ${report.retries}`
    + ` · cooldowns ${report.cooldowns.count} (${formatDuration(report.cooldowns.millis)})`,
    `speed     ${formatRate(report.throughputBytesPerSecond)} on average`,
    "",
    `${columns("level", "limit", "peak", "mean", "use")}over time, ${formatDuration(report.bucketMillis)} a column`,
    ...report.levels.map(levelLine)
  ]
  if (report.failures.length > 0) {
    lines.push("", `failed    ${report.failed} item${report.failed === 1 ? "" : "s"}, e.g.:`)
    for (const failure of report.failures.slice(0, 5)) lines.push(`          ${failure.item}: ${failure.reason}`)
  }
  return lines.join("\n")
}
