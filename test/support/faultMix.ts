/**
 * A seeded random mix of every fault the proxy knows, and the tally of what
 * became of the tracks each one hit, for bench/faults.ts and scripts/soak.ts.
 */
import type { Fault, ProxyLogEntry, ProxyRequest } from "./FaultProxy.js"
import * as FaultProxy from "./FaultProxy.js"
import type { Outcome, TrackVerdict } from "./faultRun.js"

/**
 * The faults a request may get: downloads get the transfer faults (and
 * redirects, one to another host: `media`, the catalog's credential-free
 * path), getAlbum the API ones; ping and the extensions none.
 */
export const menu = (media: string) => (request: ProxyRequest, draw: () => number): ReadonlyArray<Fault> => {
  const common: ReadonlyArray<Fault> = [
    { _tag: "Reset", afterBytes: Math.floor(draw() * 8000) },
    { _tag: "Stall", afterBytes: Math.floor(draw() * 4000) },
    { _tag: "Status", status: 500 },
    { _tag: "Status", status: 502 },
    { _tag: "Status", status: 503 },
    { _tag: "Status", status: 429, retryAfter: "1" },
    { _tag: "Status", status: 429 },
    { _tag: "HtmlPage" },
    { _tag: "RedirectLoop" }
  ]
  if (request.method === "download") {
    return [
      ...common,
      { _tag: "Trickle", bytes: 256, everyMillis: 100 },
      { _tag: "Trickle", bytes: 8192, everyMillis: 10 },
      { _tag: "ShortBody" },
      { _tag: "WrongLength", delta: 4000 },
      { _tag: "WrongLength", delta: -4000 },
      { _tag: "Redirect", location: (pathAndQuery) => pathAndQuery },
      { _tag: "Redirect", location: (pathAndQuery) => `${media}/media${pathAndQuery.replace(/^[^?]*/, "")}` },
      { _tag: "Redirect", location: () => "file:///etc/passwd" },
      { _tag: "ExtraHeader", name: "content-disposition", value: `attachment; filename="../../../../evil.flac"` }
    ]
  }
  if (request.method === "getAlbum") {
    return [
      ...common,
      { _tag: "MalformedJson" },
      { _tag: "TruncatedJson" },
      { _tag: "OversizedJson", bytes: 8 * 1024 * 1024, declareLength: true },
      { _tag: "OversizedJson", bytes: 8 * 1024 * 1024, declareLength: false }
    ]
  }
  return []
}

/** A random plan: each download or getAlbum request is broken with probability `rate`. */
export const randomPlan = (seed: number, rate: number, media: string) =>
  FaultProxy.random({ seed, rate, menu: menu(media) })

/** A fault as a row of the table. */
export const describeFault = (fault: Fault): string => {
  switch (fault._tag) {
    case "Reset":
      return "reset mid-body"
    case "Stall":
      return "stall (headers, then silence)"
    case "Trickle":
      return fault.bytes * (1000 / fault.everyMillis) < 16 * 1024 ? "trickle, below the lowest speed" : "trickle, steady"
    case "Status":
      return fault.status === 429
        ? `HTTP 429, ${fault.retryAfter === undefined ? "no Retry-After" : "Retry-After"}`
        : `HTTP ${fault.status}`
    case "ShortBody":
      return "closed short of Content-Length"
    case "WrongLength":
      return `Content-Length ${fault.delta > 0 ? "too large" : "too small"}`
    case "HtmlPage":
      return "HTML page as 200 text/html"
    case "Redirect": {
      const to = fault.location("/rest/download?id=x")
      return to.startsWith("/") ? "redirect, same host" : to.startsWith("http") ? "redirect, other host" : "redirect to file:"
    }
    case "RedirectLoop":
      return "redirect loop"
    case "MalformedJson":
      return "malformed JSON"
    case "TruncatedJson":
      return "truncated JSON"
    case "OversizedJson":
      return `oversized JSON (${fault.declareLength ? "Content-Length" : "chunked"})`
    case "ExtraHeader":
      return "hostile Content-Disposition"
  }
}

export interface Row {
  injected: number
  intact: number
  failed: number
  corrupt: number
  hung: number
}

const rank: Record<Outcome, number> = { intact: 0, failed: 1, hung: 2, corrupt: 3 }

/**
 * Faults by kind against the outcome of what they hit: a download fault, its
 * track; a getAlbum fault, the album's tracks (the worst of them). A track
 * hit twice counts once per fault.
 */
export const tally = (
  log: ReadonlyArray<ProxyLogEntry>,
  byTrack: ReadonlyMap<string, TrackVerdict>,
  tracksOfAlbum: (album: string) => ReadonlyArray<string>,
  rows: Map<string, Row> = new Map()
) => {
  for (const entry of log) {
    const fault = entry.fault
    if (fault === undefined || entry.id === undefined) continue
    const hit = entry.method === "getAlbum" ? tracksOfAlbum(entry.id) : [entry.id]
    const outcomes = hit.map((id) => byTrack.get(id)?.outcome ?? "hung")
    const worst = outcomes.reduce<Outcome>((a, b) => (rank[b] > rank[a] ? b : a), "intact")
    const label = `${entry.method}: ${describeFault(fault)}`
    const row = rows.get(label) ?? { injected: 0, intact: 0, failed: 0, corrupt: 0, hung: 0 }
    row.injected++
    row[worst]++
    rows.set(label, row)
  }
  return rows
}

/** The table, widths fitted, with a total row. */
export const formatTable = (rows: ReadonlyMap<string, Row>): string => {
  const sorted = [...rows].sort(([a], [b]) => a.localeCompare(b))
  const total: Row = { injected: 0, intact: 0, failed: 0, corrupt: 0, hung: 0 }
  for (const [, row] of sorted) {
    for (const key of Object.keys(total) as Array<keyof Row>) total[key] += row[key]
  }
  const head = ["fault injected", "count", "completed intact", "failed with reason", "corrupt", "hung"]
  const body = [...sorted, ["total", total] as const].map(([label, row]) =>
    [label, row.injected, row.intact, row.failed, row.corrupt, row.hung].map(String)
  )
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((line) => line[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.slice(0, -1).map(line), line(body.at(-1)!)]
    .join("\n")
}
