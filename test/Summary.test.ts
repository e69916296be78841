import { assert, describe, it } from "@effect/vitest"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { ProgressSnapshot } from "../src/domain/ProgressSnapshot.js"
import { formatBytes, formatDuration, formatElapsed } from "../src/domain/Format.js"
import { renderSummary } from "../src/layers/Summary.js"

const fold = (events: ReadonlyArray<ProgressEvent>): ProgressSnapshot => {
  const snapshot = new ProgressSnapshot()
  for (const event of events) snapshot.apply(event)
  return snapshot
}

const limits = { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 }

const run: ReadonlyArray<ProgressEvent> = [
  { _tag: "JobStarted", at: 1_000, inputs: ["sim:artist/7"], limits },
  { _tag: "ItemQueued", at: 1_000, item: "al1", kind: "album", label: "Artist — Album" },
  { _tag: "ItemQueued", at: 1_000, item: "al2", kind: "album", label: "Artist — Other" },
  { _tag: "ItemQueued", at: 1_000, item: "t1", kind: "track", label: "01. Intro", parent: "al1" },
  { _tag: "ItemQueued", at: 1_000, item: "t2", kind: "track", label: "02. Song", parent: "al1" },
  { _tag: "ItemQueued", at: 1_000, item: "t3", kind: "track", label: "03. Outro", parent: "al1", path: "Artist/Album/03. Outro.flac" },
  { _tag: "ItemQueued", at: 1_000, item: "t4", kind: "track", label: "01. Gone", parent: "al2" },
  { _tag: "ItemFinished", at: 3_000, item: "t1", kind: "track", state: "done", bytes: 8_000_000 },
  { _tag: "ItemFinished", at: 4_000, item: "t2", kind: "track", state: "skipped", reason: "exists", bytes: 4_300_000 },
  { _tag: "Retrying", at: 4_000, provider: "sim", operation: "source", attempt: 1, delayMillis: 100, reason: "503" },
  { _tag: "RateLimited", at: 4_000, provider: "sim", status: 429 },
  { _tag: "RateLimited", at: 4_100, provider: "sim", status: 429 },
  { _tag: "ItemFinished", at: 5_000, item: "t3", kind: "track", state: "failed", reason: "checksum mismatch" },
  { _tag: "ItemFinished", at: 5_000, item: "t4", kind: "track", state: "failed", reason: "not found" },
  { _tag: "ItemFinished", at: 5_000, item: "al1", kind: "album", state: "done" },
  { _tag: "ItemFinished", at: 5_000, item: "al2", kind: "album", state: "failed", reason: "no tracks" },
  { _tag: "JobFinished", at: 66_000, done: 1, skipped: 1, failed: 2, bytes: 12_300_000, interrupted: false }
]

describe("renderSummary", () => {
  it("reports states, bytes, time, throughput, retries and each failure", () => {
    const text = renderSummary(fold(run), {
      retryCommand: (item) => item.kind === "track" && item.reason !== "not found" ? `lyra retry ${item.item}` : undefined
    })
    assert.strictEqual(
      text,
      [
        "Summary",
        "  tracks: 1 done, 1 skipped, 2 failed",
        "  albums: 1 done, 0 skipped, 1 failed",
        // Written and throughput count transferred bytes only: the skipped file was already there.
        "  written: 8.0 MB in 1m 05s (average 123.1 kB/s, peak 2.7 MB/s); 4.3 MB already in the library",
        "  retries: 1, rate limited: 2",
        "Failed (3):",
        "  - Artist — Other: no tracks",
        "  - Artist — Album / 03. Outro: checksum mismatch",
        "    path: Artist/Album/03. Outro.flac",
        "    retry: lyra retry t3",
        "  - Artist — Other / 01. Gone: not found"
      ].join("\n")
    )
    assert.notInclude(text, "\x1b")
  })

  it("says when the run was interrupted and counts unfinished items", () => {
    const events: ReadonlyArray<ProgressEvent> = [
      ...run.slice(0, 8),
      { _tag: "JobFinished", at: 2_500, done: 1, skipped: 0, failed: 0, bytes: 0, interrupted: true }
    ]
    const text = renderSummary(fold(events), {})
    const lines = text.split("\n")
    assert.strictEqual(lines[0], "Interrupted: partial summary")
    assert.strictEqual(lines[1], "  tracks: 1 done, 0 skipped, 0 failed, 3 not finished")
    assert.strictEqual(lines[2], "  albums: 0 done, 0 skipped, 0 failed, 2 not finished")
    assert.strictEqual(lines[3], "  written: 8.0 MB in 1.5s (average 5.3 MB/s, peak 5.3 MB/s)")
    assert.notInclude(text, "Failed")
  })

  it("adds the peak memory the renderer sampled, and retries by provider when several providers had them", () => {
    const events: ReadonlyArray<ProgressEvent> = [
      ...run.slice(0, 10),
      { _tag: "Retrying", at: 4_000, provider: "tidal", operation: "album", attempt: 1, delayMillis: 100, reason: "503" },
      { _tag: "RateLimited", at: 4_000, provider: "tidal", status: 429 },
      { _tag: "RateLimited", at: 4_000, provider: "tidal", status: 429 },
      { _tag: "JobFinished", at: 5_000, done: 1, skipped: 1, failed: 0, bytes: 12_300_000, interrupted: false }
    ]
    const lines = renderSummary(fold(events), {}, { peakRssBytes: 84_200_000 }).split("\n")
    assert.include(lines, "  retries: 2, rate limited: 2 (retries/rate limited by provider: sim 1/0, tidal 1/2)")
    assert.include(lines, "  peak memory: 84.2 MB RSS")
  })

  it("caps the list of failures, saying how many more there are", () => {
    const events: Array<ProgressEvent> = [{ _tag: "JobStarted", at: 0, inputs: ["x"], limits }]
    for (let i = 0; i < 60; i++) {
      events.push({ _tag: "ItemQueued", at: 0, item: `t${i}`, kind: "track", label: `track ${i}` })
      events.push({ _tag: "ItemFinished", at: 0, item: `t${i}`, kind: "track", state: "failed", reason: "gone" })
    }
    const lines = renderSummary(fold(events), { retryCommand: (item) => `lyra download ${item.item}` }).split("\n")
    assert.include(lines, "Failed (60):")
    assert.strictEqual(lines.filter((line) => line.startsWith("  - ")).length, 50)
    assert.strictEqual(lines[lines.length - 1], "  … and 10 more (--json or --log-file lists every one)")
  })

  it("handles an empty run", () => {
    assert.strictEqual(
      renderSummary(new ProgressSnapshot(), {}),
      [
        "Summary",
        "  tracks: 0 done, 0 skipped, 0 failed",
        "  albums: 0 done, 0 skipped, 0 failed",
        "  written: 0 B in 0ms",
        "  retries: 0, rate limited: 0"
      ].join("\n")
    )
  })
})

describe("Format", () => {
  it("formatBytes uses decimal units with one decimal", () => {
    assert.deepStrictEqual(
      [0, 999, 1000, 12_345, 999_960, 12_300_000, 4.2e9, 3e15].map(formatBytes),
      ["0 B", "999 B", "1.0 kB", "12.3 kB", "1.0 MB", "12.3 MB", "4.2 GB", "3.0 PB"]
    )
  })

  it("formatDuration reads like a person would say it", () => {
    assert.deepStrictEqual(
      [0, 850, 1000, 1500, 2000, 59_960, 65_000, 3_599_600, 7_380_000].map(formatDuration),
      ["0ms", "850ms", "1s", "1.5s", "2s", "1m 00s", "1m 05s", "1h 00m", "2h 03m"]
    )
  })

  it("formatElapsed is mm:ss.s", () => {
    assert.deepStrictEqual(
      [0, 99, 100, 65_900, 600_000, 6_000_000].map(formatElapsed),
      ["00:00.0", "00:00.0", "00:00.1", "01:05.9", "10:00.0", "100:00.0"]
    )
  })
})
