import cliTruncate from "cli-truncate"
import stringWidth from "string-width"
import { formatBytes, formatCallRate, formatDuration, formatElapsed, formatPercent, formatRate } from "../domain/Format.js"
import type { ItemView, ProgressSnapshot } from "../domain/ProgressSnapshot.js"
import type { LimiterUsage } from "../services/RateLimiter.js"

/** Everything one frame of the live display is drawn from. */
export interface FrameInput {
  readonly snapshot: ProgressSnapshot
  /** The RateLimiter's view of each provider: API calls in flight, the cap, the rate, any cooldown. */
  readonly usage: ReadonlyArray<LimiterUsage>
  /** The Clock's time. */
  readonly now: number
  /** Columns and rows the frame may use. */
  readonly width: number
  readonly height: number
  readonly rssBytes?: number | undefined
  readonly color?: boolean | undefined
}

type Paint = (code: number, text: string) => string

const sgr = (code: number, text: string) => {
  const close = code === 1 || code === 2 ? 22 : 39
  return `\u001B[${code}m${text}\u001B[${close}m`
}
const plain: Paint = (_, text) => text

const green = 32, yellow = 33, red = 31, cyan = 36, dim = 2, bold = 1

/** A bar of `width` cells, `fraction` of them filled. */
export const bar = (fraction: number, width: number, paint: Paint = plain): string => {
  if (width <= 0) return ""
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const filled = Math.round(f * width)
  return paint(green, "█".repeat(filled)) + paint(dim, "░".repeat(width - filled))
}

/** `text` cut to `width` columns (with an ellipsis) and padded to exactly `width`. */
export const fit = (text: string, width: number): string => {
  if (width <= 0) return ""
  const cut = stringWidth(text) > width ? cliTruncate(text, width, { position: "end" }) : text
  return cut + " ".repeat(Math.max(0, width - stringWidth(cut)))
}

/** Cuts a finished line to the frame's width. */
const clip = (line: string, width: number): string =>
  stringWidth(line) > width ? cliTruncate(line, width, { position: "end" }) : line

/** Joins parts with two spaces, dropping trailing ones until the line fits `width`. */
const joinFitting = (parts: ReadonlyArray<string>, width: number): string => {
  for (let n = parts.length; n > 1; n--) {
    const line = parts.slice(0, n).join("  ")
    if (stringWidth(line) <= width) return line
  }
  return clip(parts[0] ?? "", width)
}

/** Below this much time since an item's first reported bytes, its speed is not known yet. */
const minSpeedSpanMillis = 500

/** Bytes per second of one item since its first reported bytes (a resumed transfer's start is not counted). */
const speedOf = (view: ItemView, now: number): number | undefined => {
  if (view.firstBytesAt === undefined || view.firstBytes === undefined) return undefined
  const elapsed = now - view.firstBytesAt
  return elapsed >= minSpeedSpanMillis ? ((view.bytes - view.firstBytes) * 1000) / elapsed : undefined
}

/** A countdown in seconds with one decimal: `4.2s`, `0.3s`; minutes beyond a minute. */
const countdown = (millis: number): string => millis < 60_000 ? `${(millis / 1000).toFixed(1)}s` : formatDuration(millis)

const overall = (input: FrameInput, paint: Paint): string => {
  const { now, snapshot, width } = input
  const finished = snapshot.countOf("track", "done") + snapshot.countOf("track", "skipped")
    + snapshot.countOf("track", "failed")
  const tally = snapshot.tally("track")
  const total = tally.done + tally.skipped + tally.failed + tally.pending
  const speed = snapshot.throughput.current(now)
  const remaining = Math.max(0, snapshot.plannedBytes - snapshot.bytes)
  const eta = total === 0
    ? "–"
    : remaining === 0 && tally.pending === 0
    ? "0s"
    : speed > 0 && remaining > 0
    ? formatDuration((remaining * 1000) / speed)
    : "–"
  const elapsed = snapshot.startedAt === undefined ? 0 : now - snapshot.startedAt
  const parts = [
    paint(bold, `${finished}/${total} tracks`),
    `${formatBytes(snapshot.bytes)} of ${formatBytes(Math.max(snapshot.plannedBytes, snapshot.bytes))}`,
    formatRate(speed),
    `ETA ${eta}`,
    formatElapsed(elapsed)
  ]
  const fraction = snapshot.plannedBytes > 0 ? snapshot.bytes / snapshot.plannedBytes : total > 0 ? finished / total : 0
  const barWidth = Math.min(40, Math.max(0, width - stringWidth(parts.join("  ")) - 1))
  if (barWidth >= 10) return `${bar(fraction, barWidth, paint)} ${parts.join("  ")}`
  const text = joinFitting(parts, width - 11)
  return stringWidth(text) <= width - 11 ? `${bar(fraction, 10, paint)} ${text}` : joinFitting(parts, width)
}

/**
 * A running track whose bytes are all there: it has left the track level (T)
 * and is being finished (tagged, placed) outside its permits.
 */
const isTransferred = (view: ItemView): boolean =>
  view.sizeBytes !== undefined && view.sizeBytes > 0 && view.bytes >= view.sizeBytes

const levels = (input: FrameInput, paint: Paint): string => {
  const { snapshot, usage } = input
  let albums = 0, tracks = 0, finishing = 0
  for (const view of snapshot.running.values()) {
    if (snapshot.isGroup(view)) albums++
    else if (view.kind === "track" && isTransferred(view)) finishing++
    else if (view.kind === "track") tracks++
  }
  const limits = snapshot.limits
  const api = usage.length === 0
    ? [`api 0/${limits?.api ?? "?"}`]
    : usage.map((u) =>
      `api ${u.provider} ${u.inFlight}/${u.concurrency}${
        u.ratePerSecond === undefined ? "" : ` at ${formatCallRate(u.ratePerSecond)}`
      }`
    )
  return joinFitting([
    `${paint(dim, "levels")} albums ${albums}/${limits?.albums ?? "?"}`,
    `tracks ${tracks}/${limits?.tracks ?? "?"}${finishing > 0 ? ` +${finishing} finishing` : ""}`,
    ...api
  ], input.width)
}

/** Providers paused by a Retry-After or a quota, with how long is left; empty when none is. */
const throttling = (input: FrameInput, paint: Paint): ReadonlyArray<string> => {
  const { now, snapshot, usage } = input
  const until = new Map<string, number>(snapshot.coolingDown)
  for (const u of usage) {
    if (u.coolingDownUntil !== undefined && u.coolingDownUntil > (until.get(u.provider) ?? 0)) {
      until.set(u.provider, u.coolingDownUntil)
    }
  }
  const notes: Array<string> = []
  for (const [provider, at] of until) {
    if (at > now) notes.push(paint(yellow, `${provider} cooling down ${countdown(at - now)} (Retry-After)`))
  }
  for (const [provider, at] of snapshot.quotaWaiting) {
    if (at > now) notes.push(paint(yellow, `${provider} quota used up, next window in ${countdown(at - now)}`))
  }
  return notes.length === 0 ? [] : [clip(`${paint(dim, "paused")} ${notes.join("  ")}`, input.width)]
}

const health = (input: FrameInput, paint: Paint): string => {
  const { now, snapshot } = input
  let failed = 0
  for (const kind of ["track", "album", "playlist", "artist"] as const) failed += snapshot.countOf(kind, "failed")
  return joinFitting([
    `${paint(dim, "status")} retries ${snapshot.retries}`,
    `429s ${snapshot.rateLimited}`,
    failed > 0 ? paint(red, `failed ${failed}`) : `failed 0`,
    `bw ${formatRate(snapshot.throughput.current(now))}`,
    `rss ${input.rssBytes === undefined ? "–" : formatBytes(input.rssBytes)}`
  ], input.width)
}

const groupLine = (input: FrameInput, view: ItemView, paint: Paint): string => {
  const counts = input.snapshot.children.get(view.item)
  const total = counts?.total ?? 0
  const finished = counts === undefined ? 0 : counts.done + counts.skipped + counts.failed
  const right = ` ${finished}/${total}${counts !== undefined && counts.failed > 0 ? ` ${paint(red, `${counts.failed} failed`)}` : ""}`
  const barWidth = Math.min(20, Math.max(0, Math.floor(input.width / 6)))
  const labelWidth = input.width - 2 - barWidth - 1 - stringWidth(right)
  if (labelWidth < 12) return clip(`${paint(cyan, "▸")} ${view.label}${right}`, input.width)
  return `${paint(cyan, "▸")} ${fit(view.label, labelWidth)} ${bar(total > 0 ? finished / total : 0, barWidth, paint)}${right}`
}

const trackLine = (input: FrameInput, view: ItemView, indent: string, paint: Paint): string => {
  const speed = speedOf(view, input.now)
  const size = view.sizeBytes
  const pct = size !== undefined && size > 0 ? formatPercent(view.bytes / size) : ""
  const right = ` ${pct.padStart(4)} ${formatBytes(view.bytes).padStart(8)} ${
    (isTransferred(view) ? "finishing" : speed === undefined ? "–" : formatRate(speed)).padStart(10)
  }`
  const barWidth = Math.min(24, Math.max(0, Math.floor(input.width / 5)))
  const head = `${indent}↓ `
  const labelWidth = input.width - stringWidth(head) - barWidth - 1 - stringWidth(right)
  if (labelWidth < 12) {
    return clip(`${head}${view.label} ${pct}${speed === undefined ? "" : ` ${formatRate(speed)}`}`, input.width)
  }
  return `${head}${fit(view.label, labelWidth)} ${bar(size !== undefined && size > 0 ? view.bytes / size : 0, barWidth, paint)}${right}`
}

/** Running groups, each followed by its running tracks; then tracks whose group is not running. */
const activity = (input: FrameInput, paint: Paint): Array<string> => {
  const { snapshot } = input
  const byParent = new Map<string, Array<ItemView>>()
  const groups: Array<ItemView> = []
  for (const view of snapshot.running.values()) {
    if (snapshot.isGroup(view)) groups.push(view)
    else if (view.kind === "track") {
      const key = view.parent ?? ""
      const list = byParent.get(key)
      if (list === undefined) byParent.set(key, [view])
      else list.push(view)
    }
  }
  const lines: Array<string> = []
  for (const group of groups) {
    lines.push(groupLine(input, group, paint))
    for (const track of byParent.get(group.item) ?? []) lines.push(trackLine(input, track, "  ", paint))
    byParent.delete(group.item)
  }
  for (const tracks of byParent.values()) for (const track of tracks) lines.push(trackLine(input, track, "", paint))
  return lines
}

/**
 * One frame of the live display, as lines that each fit `width` columns, at most
 * `height` of them: the overall bar, level usage, any pause, retries and
 * failures with memory and bandwidth, then the albums and tracks in flight.
 */
export const renderFrame = (input: FrameInput): ReadonlyArray<string> => {
  const paint: Paint = input.color === true ? sgr : plain
  const header = [overall(input, paint), levels(input, paint), ...throttling(input, paint), health(input, paint)]
  const body = activity(input, paint)
  const room = Math.max(0, input.height - header.length)
  if (body.length > room) {
    const shown = body.slice(0, Math.max(0, room - 1))
    const more = body.length - shown.length
    body.length = 0
    body.push(...shown)
    if (room > 0) body.push(paint(dim, `… ${more} more in flight`))
  }
  return [...header, ...body].slice(0, Math.max(1, input.height))
}
