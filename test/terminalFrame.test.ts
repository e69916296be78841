import { assert, describe, it } from "@effect/vitest"
import stringWidth from "string-width"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { ProgressSnapshot } from "../src/domain/ProgressSnapshot.js"
import { bar, fit, renderFrame } from "../src/layers/TerminalFrame.js"
import type { LimiterUsage } from "../src/services/RateLimiter.js"

const limits = { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 }

const fold = (events: ReadonlyArray<ProgressEvent>): ProgressSnapshot => {
  const snapshot = new ProgressSnapshot()
  for (const event of events) snapshot.apply(event)
  return snapshot
}

/** An album with three tracks: one done, two downloading; a retry, a 429 and a Retry-After in force. */
const job = (label = "Artist — Album"): ReadonlyArray<ProgressEvent> => [
  { _tag: "JobStarted", at: 0, inputs: ["sim:album:1"], limits },
  { _tag: "ItemQueued", at: 0, item: "al", kind: "album", label },
  { _tag: "ItemStarted", at: 0, item: "al", kind: "album" },
  { _tag: "ItemQueued", at: 0, item: "t1", kind: "track", label: "01. Intro", parent: "al", sizeBytes: 2_000_000 },
  { _tag: "ItemQueued", at: 0, item: "t2", kind: "track", label: "02. Song", parent: "al", sizeBytes: 4_000_000 },
  { _tag: "ItemQueued", at: 0, item: "t3", kind: "track", label: "03. Outro", parent: "al", sizeBytes: 1_000_000 },
  { _tag: "ItemStarted", at: 0, item: "t3", kind: "track" },
  { _tag: "ItemFinished", at: 900, item: "t3", kind: "track", state: "done", bytes: 1_000_000 },
  { _tag: "ItemStarted", at: 1000, item: "t1", kind: "track" },
  { _tag: "ItemStarted", at: 1000, item: "t2", kind: "track" },
  { _tag: "TrackBytes", at: 1000, item: "t1", bytes: 0, totalBytes: 2_000_000 },
  { _tag: "TrackBytes", at: 1000, item: "t2", bytes: 0, totalBytes: 4_000_000 },
  { _tag: "TrackBytes", at: 2000, item: "t1", bytes: 1_000_000, totalBytes: 2_000_000 },
  { _tag: "TrackBytes", at: 2000, item: "t2", bytes: 500_000, totalBytes: 4_000_000 },
  { _tag: "Retrying", at: 2000, provider: "sim", operation: "source", attempt: 1, delayMillis: 0, reason: "429" },
  { _tag: "RateLimited", at: 2000, provider: "sim", status: 429, retryAfterMillis: 1500 },
  { _tag: "CoolingDown", at: 2000, provider: "sim", untilMillis: 3500 }
]

const usage: ReadonlyArray<LimiterUsage> = [
  { provider: "sim", inFlight: 3, concurrency: 10, ratePerSecond: 20, coolingDownUntil: 3500 }
]

const frame = (width: number, height: number, events = job(), color = false) =>
  renderFrame({ snapshot: fold(events), usage, now: 2000, width, height, rssBytes: 84_200_000, color })

describe("renderFrame", () => {
  it("shows the overall bar, level usage, the cooldown, retries, memory, bandwidth and each active item", () => {
    const lines = frame(120, 30)
    const text = lines.join("\n")
    // Overall: 1 of 3 tracks, 2.5 of 7 MB, the rate over the whole seconds so far (1 MB in 2 s), an ETA and the clock.
    assert.match(lines[0]!, /^█+░+ 1\/3 tracks {2}2\.5 MB of 7\.0 MB {2}500\.0 kB\/s {2}ETA 9s {2}00:02\.0$/)
    assert.strictEqual(lines[1], "levels albums 1/3  tracks 2/5  api sim 3/10 at 20/s")
    assert.strictEqual(lines[2], "paused sim cooling down 1.5s (Retry-After)")
    assert.strictEqual(lines[3], "status retries 1  429s 1  failed 0  bw 500.0 kB/s  rss 84.2 MB")
    assert.match(lines[4]!, /^▸ Artist — Album +█+░+ 1\/3$/)
    assert.match(lines[5]!, /^ {2}↓ 01\. Intro +█+░+ {2}50% {3}1\.0 MB {3}1\.0 MB\/s$/)
    assert.match(lines[6]!, /^ {2}↓ 02\. Song +█+░+ {2}12% 500\.0 kB 500\.0 kB\/s$/)
    assert.strictEqual(lines.length, 7)
    assert.notInclude(text, "\u001B")
  })

  it("fits every line to the width, however narrow or wide, with wide characters too", () => {
    for (const label of ["Artist — Album", "坂本龍一 — 音楽図鑑 (2015 Edition) 🎹 with a very long subtitle indeed"]) {
      for (const width of [20, 33, 40, 60, 80, 132, 250]) {
        for (const line of frame(width, 30, job(label))) {
          assert.isAtMost(stringWidth(line), width, `width ${width}: ${line}`)
        }
      }
    }
    // Narrow: the overall line keeps its counts and drops what does not fit.
    assert.match(frame(40, 30)[0]!, /^█*░* 1\/3 tracks {2}2\.5 MB of 7\.0 MB$/)
  })

  it("keeps to the height, saying how many more are in flight", () => {
    const events: Array<ProgressEvent> = [...job()]
    for (let i = 0; i < 20; i++) {
      events.push({ _tag: "ItemQueued", at: 0, item: `x${i}`, kind: "track", label: `extra ${i}`, parent: "al" })
      events.push({ _tag: "ItemStarted", at: 0, item: `x${i}`, kind: "track" })
    }
    const lines = frame(100, 10, events)
    assert.strictEqual(lines.length, 10)
    // Four header lines, five of the 23 activity lines, and the count of the other 18.
    assert.strictEqual(lines[9], "… 18 more in flight")
  })

  it("counts a track whose bytes are all there as finishing, outside the track level", () => {
    const events: ReadonlyArray<ProgressEvent> = [
      ...job(),
      { _tag: "TrackBytes", at: 2000, item: "t1", bytes: 2_000_000, totalBytes: 2_000_000 }
    ]
    const lines = frame(120, 30, events)
    assert.strictEqual(lines[1], "levels albums 1/3  tracks 1/5 +1 finishing  api sim 3/10 at 20/s")
    assert.match(lines[5]!, /^ {2}↓ 01\. Intro +█+ 100% {3}2\.0 MB {2}finishing$/)
  })

  it("colours only on request", () => {
    assert.include(frame(100, 20, job(), true).join("\n"), "\u001B[32m")
    assert.notInclude(frame(100, 20, job(), false).join("\n"), "\u001B")
  })

  it("drops the pause line once the cooldown is over", () => {
    const lines = renderFrame({ snapshot: fold(job()), usage: [], now: 3500, width: 100, height: 20 })
    assert.isFalse(lines.some((line) => line.includes("cooling down")))
    assert.include(lines[1], "api 0/10")
  })

  it("bar and fit", () => {
    assert.strictEqual(bar(0.5, 10), "█████░░░░░")
    assert.strictEqual(bar(2, 4), "████")
    assert.strictEqual(bar(Number.NaN, 3), "░░░")
    assert.strictEqual(fit("abc", 5), "abc  ")
    assert.strictEqual(fit("abcdef", 4), "abc…")
    assert.strictEqual(stringWidth(fit("音楽図鑑です", 7)), 7)
  })
})
