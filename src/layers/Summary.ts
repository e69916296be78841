import * as Effect from "effect/Effect"
import { formatBytes, formatDuration, formatThroughput } from "../domain/Format.js"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { ItemView, ProgressSnapshot, Tally } from "../domain/ProgressSnapshot.js"
import type { Progress } from "../services/Progress.js"
import type { ProcessMeter } from "./ProcessMeter.js"

export interface SummaryOptions {
  /** The command line that retries one failed item, if the caller knows one. */
  readonly retryCommand?: (item: ItemView) => string | undefined
  /** At most this many failures are listed one by one; default 50. */
  readonly maxFailures?: number
}

/** What the renderer measured of the process itself, beside the events. */
export interface ProcessMetrics {
  /** The highest resident set size sampled during the run. */
  readonly peakRssBytes?: number | undefined
}

const plural = (kind: ItemKind): string => `${kind}s`

const describeTally = (tally: Tally): string => {
  const parts = [`${tally.done} done`, `${tally.skipped} skipped`, `${tally.failed} failed`]
  // Pending only shows when the run stopped early; otherwise it is noise.
  if (tally.pending > 0) parts.push(`${tally.pending} not finished`)
  return parts.join(", ")
}

/** Which providers the retries and rate limits came from, when more than one did. */
const describeByProvider = (snapshot: ProgressSnapshot): string => {
  const providers = new Set([...snapshot.retriesBy.keys(), ...snapshot.rateLimitedBy.keys()])
  if (providers.size < 2) return ""
  const parts = [...providers].sort().map((provider) =>
    `${provider} ${snapshot.retriesBy.get(provider) ?? 0}/${snapshot.rateLimitedBy.get(provider) ?? 0}`
  )
  return ` (retries/rate limited by provider: ${parts.join(", ")})`
}

/**
 * The end-of-run report as plain text, from the final snapshot: what ended in
 * which state, how much and how fast, and how to retry what failed.
 */
export const renderSummary = (
  snapshot: ProgressSnapshot,
  options: SummaryOptions = {},
  metrics: ProcessMetrics = {}
): string => {
  const lines: Array<string> = []
  const started = snapshot.startedAt
  const ended = snapshot.finishedAt ?? snapshot.lastEventAt
  const wall = started === undefined || ended === undefined ? 0 : Math.max(0, ended - started)

  lines.push(snapshot.interrupted ? "Interrupted: partial summary" : "Summary")
  lines.push(`  tracks: ${describeTally(snapshot.tally("track"))}`)
  for (const kind of ["album", "playlist", "artist"] as const) {
    const tally = snapshot.tally(kind)
    if (tally.done + tally.skipped + tally.failed + tally.pending > 0 || kind === "album") {
      lines.push(`  ${plural(kind)}: ${describeTally(tally)}`)
    }
  }
  // Throughput counts bytes transferred, not files found already in the library.
  const transferred = snapshot.throughput.total
  const average = formatThroughput(transferred, wall)
  // A run shorter than the meter's window has no whole-window peak: its average is its peak.
  const peak = Math.max(snapshot.throughput.peakPerSecond(), wall > 0 ? (transferred * 1000) / wall : 0)
  // Files found already in the library were not written: they are counted apart.
  const present = snapshot.bytes - transferred
  lines.push(
    `  written: ${formatBytes(transferred)} in ${formatDuration(wall)}${
      average === undefined ? "" : ` (average ${average}, peak ${formatBytes(peak)}/s)`
    }${present > 0 ? `; ${formatBytes(present)} already in the library` : ""}`
  )
  lines.push(`  retries: ${snapshot.retries}, rate limited: ${snapshot.rateLimited}${describeByProvider(snapshot)}`)
  if (metrics.peakRssBytes !== undefined) lines.push(`  peak memory: ${formatBytes(metrics.peakRssBytes)} RSS`)

  const failures = snapshot.failures()
  if (failures.length > 0) {
    lines.push(`Failed (${failures.length}):`)
    const shown = failures.slice(0, options.maxFailures ?? 50)
    for (const view of shown) {
      lines.push(`  - ${snapshot.labelOf(view)}: ${view.reason ?? "unknown reason"}`)
      if (view.path !== undefined) lines.push(`    path: ${view.path}`)
      const command = options.retryCommand?.(view)
      if (command !== undefined) lines.push(`    retry: ${command}`)
    }
    if (shown.length < failures.length) {
      lines.push(`  … and ${failures.length - shown.length} more (--json or --log-file lists every one)`)
    }
  }
  return lines.join("\n")
}

/** The summary of the run so far, with the peak memory sampled once more now: what every renderer prints at the end. */
export const summaryNow = (
  progress: Progress["Type"],
  meter: ProcessMeter,
  options: SummaryOptions
): Effect.Effect<string> =>
  Effect.gen(function*() {
    const snapshot = yield* progress.snapshot
    yield* meter.sample
    return renderSummary(snapshot, options, { peakRssBytes: yield* meter.peakRss })
  })
