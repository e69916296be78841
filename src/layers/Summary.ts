import { formatBytes, formatDuration, formatThroughput } from "../domain/Format.js"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { ItemView, ProgressSnapshot, Tally } from "../domain/ProgressSnapshot.js"

export interface SummaryOptions {
  /** The command line that retries one failed item, if the caller knows one. */
  readonly retryCommand?: (item: ItemView) => string | undefined
}

const plural = (kind: ItemKind): string => `${kind}s`

const describeTally = (tally: Tally): string => {
  const parts = [`${tally.done} done`, `${tally.skipped} skipped`, `${tally.failed} failed`]
  // Pending only shows when the run stopped early; otherwise it is noise.
  if (tally.pending > 0) parts.push(`${tally.pending} not finished`)
  return parts.join(", ")
}

const labelOf = (snapshot: ProgressSnapshot, view: ItemView): string => {
  const parent = view.parent === undefined ? undefined : snapshot.items.get(view.parent)
  return parent === undefined || parent.kind === "artist" ? view.label : `${parent.label} / ${view.label}`
}

/**
 * The end-of-run report as plain text, from the final snapshot: what ended in
 * which state, how much and how fast, and how to retry what failed.
 */
export const renderSummary = (snapshot: ProgressSnapshot, options: SummaryOptions = {}): string => {
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
  const throughput = formatThroughput(snapshot.bytes, wall)
  lines.push(`  written: ${formatBytes(snapshot.bytes)} in ${formatDuration(wall)}${throughput === undefined ? "" : ` (${throughput})`}`)
  lines.push(`  retries: ${snapshot.retries}, rate limited: ${snapshot.rateLimited}`)

  const failures = snapshot.failures()
  if (failures.length > 0) {
    lines.push(`Failed (${failures.length}):`)
    for (const view of failures) {
      lines.push(`  - ${labelOf(snapshot, view)}: ${view.reason ?? "unknown reason"}`)
      if (view.path !== undefined) lines.push(`    path: ${view.path}`)
      const command = options.retryCommand?.(view)
      if (command !== undefined) lines.push(`    retry: ${command}`)
    }
  }
  return lines.join("\n")
}
