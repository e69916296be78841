import { formatDuration } from "../domain/Format.js"
import type { FinalState } from "../domain/ProgressEvent.js"
import type { SimulationRun } from "./simulate.js"
import type { LevelReport, SimulationReport } from "./SimulationReport.js"
import { settingsFlags } from "./renderSummary.js"
import type { GroupSpan, TrackSpan } from "./Timeline.js"
import { downloadEnds } from "./Timeline.js"

/** Rows drawn at most: beyond that the chart says how many it left out. */
export const maxRows = 300

const width = 1200
const left = 260
const right = 24
const chartWidth = width - left - right
const rowHeight = 16
const levelHeight = 44

const colors: Record<FinalState | "running", string> = {
  done: "#43a047",
  skipped: "#9e9e9e",
  failed: "#e53935",
  running: "#fb8c00"
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const n = (value: number) => (Math.round(value * 10) / 10).toString()

/** A tick step of 1, 2 or 5 times a power of ten milliseconds, giving about `count` ticks. */
const tickStep = (span: number, count: number) => {
  const raw = Math.max(1, span / count)
  const power = 10 ** Math.floor(Math.log10(raw))
  for (const factor of [1, 2, 5, 10]) if (raw <= factor * power) return factor * power
  return 10 * power
}

/** Greedy lanes: each track takes the lowest lane free at its start, so concurrent tracks never overlap. */
const lanesOf = (tracks: ReadonlyArray<TrackSpan>, end: number) => {
  const started = tracks.filter((track) => track.startedAt !== undefined)
    .sort((a, b) => a.startedAt! - b.startedAt! || a.item.localeCompare(b.item))
  const freeAt: Array<number> = []
  const lanes = new Map<TrackSpan, number>()
  for (const track of started) {
    let lane = freeAt.findIndex((time) => time <= track.startedAt!)
    if (lane < 0) lane = freeAt.length
    freeAt[lane] = track.finishedAt ?? end
    lanes.set(track, lane)
  }
  return { lanes, count: Math.max(1, freeAt.length) }
}

/**
 * An SVG Gantt chart of a simulated job: one row per album (or playlist, or
 * single) in the order they started, its tracks as bars in lanes inside it,
 * 429s and cooldowns across the top, and each level's use over time below.
 * Deterministic: the same run draws the same bytes.
 */
export const renderGantt = (run: SimulationRun, report: SimulationReport): string => {
  const start = run.timeline.startedAt ?? 0
  const span = Math.max(1, report.makespanMillis)
  const x = (time: number) => left + (Math.min(span, Math.max(0, time - start)) / span) * chartWidth
  const groups: Array<GroupSpan> = [...run.timeline.groups].sort((a, b) =>
    (a.startedAt ?? Infinity) - (b.startedAt ?? Infinity) || a.item.localeCompare(b.item)
  )
  const shown = groups.slice(0, maxRows)
  const ends = downloadEnds(shown.flatMap((group) => group.tracks), run.requests)
  const top = 84
  const rowsBottom = top + shown.length * rowHeight
  const levelsTop = rowsBottom + (groups.length > shown.length ? 40 : 24)
  const height = levelsTop + report.levels.length * (levelHeight + 14) + 16
  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">lyra simulate: ${report.catalog.groups} albums, ${report.catalog.tracks} tracks in ${escape(formatDuration(report.makespanMillis))} (predicted)</text>`,
    `<text x="12" y="38" fill="#555">${escape(report.service.profile)}</text>`,
    `<text x="12" y="54" fill="#555">${escape(settingsFlags(report.settings))} · ${report.requests.total} requests · ${report.requests.rateLimited} × 429 · ${report.retries} retries</text>`
  )

  // Time axis, with a grid through the rows.
  const step = tickStep(span, 10)
  for (let t = 0; t <= span; t += step) {
    const at = n(x(start + t))
    out.push(
      `<line x1="${at}" y1="${top - 6}" x2="${at}" y2="${rowsBottom}" stroke="#eeeeee"/>`,
      `<text x="${at}" y="${top - 10}" text-anchor="middle" fill="#555">${escape(formatDuration(t))}</text>`
    )
  }

  // Cooldowns and 429s, across every row.
  for (const cooldown of run.timeline.cooldowns) {
    out.push(
      `<rect x="${n(x(cooldown.from))}" y="${top}" width="${n(Math.max(0.5, x(cooldown.until) - x(cooldown.from)))}" height="${rowsBottom - top}" fill="#e53935" fill-opacity="0.08"/>`
    )
  }
  for (const at of run.timeline.rateLimitedAt) {
    out.push(`<line x1="${n(x(at))}" y1="${top - 4}" x2="${n(x(at))}" y2="${top}" stroke="#e53935"/>`)
  }

  shown.forEach((group, row) => {
    const y = top + row * rowHeight
    out.push(
      `<text x="${left - 6}" y="${y + 11}" text-anchor="end">${escape(group.label.length > 42 ? `${group.label.slice(0, 41)}…` : group.label)}</text>`
    )
    if (group.startedAt === undefined) return
    out.push(
      `<rect x="${n(x(group.startedAt))}" y="${y + 1}" width="${n(Math.max(0.5, x(group.finishedAt ?? start + span) - x(group.startedAt)))}" height="${rowHeight - 2}" fill="#e3f2fd" stroke="#90caf9" stroke-width="0.5"/>`
    )
    const { count, lanes } = lanesOf(group.tracks, start + span)
    const laneHeight = (rowHeight - 4) / count
    for (const [track, lane] of lanes) {
      const from = x(track.startedAt!)
      const to = x(track.finishedAt ?? start + span)
      // Post-processing (covers, lyrics, tags) after the download, outside the track level: a paler tail.
      const downloaded = x(Math.min(ends.get(track) ?? Infinity, track.finishedAt ?? start + span))
      if (to - downloaded > 0.2) {
        out.push(
          `<rect x="${n(downloaded)}" y="${n(y + 2 + lane * laneHeight)}" width="${n(to - downloaded)}" height="${n(Math.max(0.5, laneHeight - 0.5))}" fill="${colors[track.state ?? "running"]}" fill-opacity="0.35"/>`
        )
      }
      out.push(
        `<rect x="${n(from)}" y="${n(y + 2 + lane * laneHeight)}" width="${n(Math.max(0.5, downloaded - from))}" height="${n(Math.max(0.5, laneHeight - 0.5))}" fill="${colors[track.state ?? "running"]}"${track.retries > 0 ? ` stroke="#fb8c00" stroke-width="0.6"` : ""}><title>${escape(track.item)}${track.retries > 0 ? ` (${track.retries} retries)` : ""}${track.reason === undefined ? "" : `: ${escape(track.reason)}`}</title></rect>`
      )
    }
  })
  if (groups.length > shown.length) {
    out.push(`<text x="${left}" y="${rowsBottom + 16}" fill="#555">… and ${groups.length - shown.length} more albums, not drawn</text>`)
  }

  // Each level's use over time, as a step chart under its limit.
  report.levels.forEach((level: LevelReport, index) => {
    const y0 = levelsTop + index * (levelHeight + 14)
    const topValue = Math.max(1, level.limit ?? level.peak)
    const yOf = (value: number) => y0 + levelHeight - (Math.min(value, topValue) / topValue) * levelHeight
    const columns = level.series.length
    const points: Array<string> = [`${left},${n(y0 + levelHeight)}`]
    level.series.forEach((value, i) => {
      const a = left + (i / columns) * chartWidth
      const b = left + ((i + 1) / columns) * chartWidth
      points.push(`${n(a)},${n(yOf(value))}`, `${n(b)},${n(yOf(value))}`)
    })
    points.push(`${left + chartWidth},${n(y0 + levelHeight)}`)
    out.push(
      `<text x="${left - 6}" y="${y0 + 14}" text-anchor="end">${level.name}</text>`,
      `<text x="${left - 6}" y="${y0 + 28}" text-anchor="end" fill="#555">peak ${level.peak}${level.limit === null ? "" : ` of ${level.limit}`}, mean ${level.mean.toFixed(1)}</text>`,
      `<rect x="${left}" y="${y0}" width="${chartWidth}" height="${levelHeight}" fill="#fafafa" stroke="#dddddd"/>`,
      `<polygon points="${points.join(" ")}" fill="#1e88e5" fill-opacity="0.35" stroke="#1e88e5" stroke-width="0.8"/>`
    )
  })
  out.push("</svg>", "")
  return out.join("\n")
}
