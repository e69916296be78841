import { assert, describe, it } from "@effect/vitest"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { ProgressSnapshot, ThroughputMeter } from "../src/domain/ProgressSnapshot.js"

const limits = { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 }

const fold = (events: ReadonlyArray<ProgressEvent>): ProgressSnapshot => {
  const snapshot = new ProgressSnapshot()
  for (const event of events) snapshot.apply(event)
  return snapshot
}

/** The old definition of a tally: a walk over every item. The incremental one must agree with it. */
const walkTally = (snapshot: ProgressSnapshot, kind: string) => {
  let done = 0, skipped = 0, failed = 0, pending = 0
  for (const view of snapshot.items.values()) {
    if (view.kind !== kind || (kind === "track" && snapshot.groups.has(view.item))) continue
    if (view.state === "done") done++
    else if (view.state === "skipped") skipped++
    else if (view.state === "failed") failed++
    else pending++
  }
  return { done, skipped, failed, pending }
}

describe("ProgressSnapshot", () => {
  it("keeps tallies, running items and per-album counts in step with the events", () => {
    const snapshot = fold([
      { _tag: "JobStarted", at: 0, inputs: ["x"], limits },
      { _tag: "ItemQueued", at: 0, item: "al", kind: "album", label: "A — Album" },
      { _tag: "ItemStarted", at: 0, item: "al", kind: "album" },
      { _tag: "ItemQueued", at: 0, item: "t1", kind: "track", label: "01. One", parent: "al", sizeBytes: 1000 },
      { _tag: "ItemQueued", at: 0, item: "t2", kind: "track", label: "02. Two", parent: "al", sizeBytes: 2000 },
      { _tag: "ItemQueued", at: 0, item: "t3", kind: "track", label: "03. Three", parent: "al", sizeBytes: 3000 },
      { _tag: "ItemStarted", at: 10, item: "t1", kind: "track" },
      { _tag: "ItemStarted", at: 20, item: "t2", kind: "track" },
      { _tag: "TrackBytes", at: 100, item: "t1", bytes: 400, totalBytes: 1000 },
      { _tag: "ItemFinished", at: 200, item: "t1", kind: "track", state: "done", bytes: 1000 },
      { _tag: "ItemFinished", at: 300, item: "t2", kind: "track", state: "failed", reason: "gone" },
      { _tag: "ItemStarted", at: 300, item: "t3", kind: "track" }
    ])
    assert.deepStrictEqual(snapshot.tally("track"), { done: 1, skipped: 0, failed: 1, pending: 1 })
    assert.deepStrictEqual(snapshot.tally("track"), walkTally(snapshot, "track"))
    assert.deepStrictEqual(snapshot.tally("album"), walkTally(snapshot, "album"))
    assert.deepStrictEqual([...snapshot.running.keys()], ["al", "t3"])
    assert.deepStrictEqual(snapshot.children.get("al"), { total: 3, done: 1, skipped: 0, failed: 1 })
    // t1 as written, t2 gave up with nothing, t3 still expected whole.
    assert.strictEqual(snapshot.plannedBytes, 1000 + 0 + 3000)
    assert.strictEqual(snapshot.limits, limits)
    assert.strictEqual(snapshot.items.get("t1")?.firstBytes, 400)
    assert.strictEqual(snapshot.labelOf(snapshot.items.get("t2")!), "A — Album / 02. Two")
  })

  it("does not count the group around a single track as a second track", () => {
    const snapshot = fold([
      { _tag: "JobStarted", at: 0, inputs: ["sim:track:5"], limits },
      { _tag: "ItemQueued", at: 0, item: "sim:single:5", kind: "track", label: "Artist — Song" },
      { _tag: "ItemStarted", at: 0, item: "sim:single:5", kind: "track" },
      { _tag: "ItemQueued", at: 0, item: "sim:track:5", kind: "track", label: "Song", parent: "sim:single:5", sizeBytes: 500 },
      { _tag: "ItemStarted", at: 0, item: "sim:track:5", kind: "track" },
      { _tag: "ItemFinished", at: 50, item: "sim:track:5", kind: "track", state: "done", bytes: 500 },
      { _tag: "ItemFinished", at: 50, item: "sim:single:5", kind: "track", state: "done" }
    ])
    assert.deepStrictEqual(snapshot.tally("track"), { done: 1, skipped: 0, failed: 0, pending: 0 })
    assert.isTrue(snapshot.isGroup(snapshot.items.get("sim:single:5")!))
    assert.isTrue(snapshot.isTrack(snapshot.items.get("sim:track:5")!))
    assert.strictEqual(snapshot.plannedBytes, 500)
  })

  it("takes back what an item counted for when it is queued again", () => {
    const snapshot = fold([
      { _tag: "ItemQueued", at: 0, item: "al", kind: "album", label: "al" },
      { _tag: "ItemQueued", at: 0, item: "t", kind: "track", label: "t", parent: "al", sizeBytes: 10 },
      { _tag: "ItemStarted", at: 0, item: "t", kind: "track" },
      { _tag: "ItemQueued", at: 0, item: "t", kind: "track", label: "t", parent: "al", sizeBytes: 10 }
    ])
    assert.deepStrictEqual(snapshot.tally("track"), { done: 0, skipped: 0, failed: 0, pending: 1 })
    assert.strictEqual(snapshot.running.size, 0)
    assert.strictEqual(snapshot.children.get("al")?.total, 1)
    assert.strictEqual(snapshot.plannedBytes, 10)
  })

  it("counts retries, rate limits, cooldowns and quota waits per provider", () => {
    const snapshot = fold([
      { _tag: "Retrying", at: 0, provider: "sim", operation: "album", attempt: 1, delayMillis: 10, reason: "503" },
      { _tag: "RateLimited", at: 0, provider: "sim", status: 429, retryAfterMillis: 2000 },
      { _tag: "CoolingDown", at: 0, provider: "sim", untilMillis: 2000 },
      { _tag: "QuotaWaiting", at: 0, provider: "other", untilMillis: 60_000 }
    ])
    assert.strictEqual(snapshot.retriesBy.get("sim"), 1)
    assert.strictEqual(snapshot.rateLimitedBy.get("sim"), 1)
    assert.strictEqual(snapshot.coolingDown.get("sim"), 2000)
    assert.strictEqual(snapshot.quotaWaiting.get("other"), 60_000)
  })

  it("counts skipped files as written but not as throughput", () => {
    const snapshot = fold([
      { _tag: "JobStarted", at: 0, inputs: ["x"], limits },
      { _tag: "ItemQueued", at: 0, item: "t", kind: "track", label: "t", sizeBytes: 5000 },
      { _tag: "ItemFinished", at: 10, item: "t", kind: "track", state: "skipped", bytes: 5000 }
    ])
    assert.strictEqual(snapshot.bytes, 5000)
    assert.strictEqual(snapshot.throughput.total, 0)
  })
})

describe("ThroughputMeter", () => {
  it("rates the last whole seconds, and keeps the best three-second window as the peak", () => {
    const meter = new ThroughputMeter()
    meter.start(0)
    const second = (index: number, bytes: number) => {
      for (let quarter = 0; quarter < 4; quarter++) meter.add(index * 1000 + quarter * 250, bytes / 4)
    }
    second(0, 1_000_000)
    assert.strictEqual(meter.current(800), 1_000_000 / 0.8)
    assert.strictEqual(meter.current(1_000), 1_000_000)
    second(1, 1_000_000)
    second(2, 1_000_000)
    assert.strictEqual(meter.current(3_000), 1_000_000)
    second(3, 4_000_000)
    second(4, 4_000_000)
    second(5, 4_000_000)
    assert.strictEqual(meter.current(6_000), 4_000_000)
    assert.strictEqual(meter.current(7_000), (4_000_000 * 2) / 3)
    assert.strictEqual(meter.current(60_000), 0)
    // Second 5 is whole only once the meter has seen time pass it.
    assert.strictEqual(meter.peakPerSecond(), 3_000_000)
    meter.add(6_000, 0)
    assert.strictEqual(meter.peakPerSecond(), 4_000_000)
    assert.strictEqual(meter.total, 15_000_000)
  })
})
