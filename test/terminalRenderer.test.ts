import { assert, describe, it } from "@effect/vitest"
import type { Console } from "effect"
import { Context, Effect, Exit, Layer, Scope, TestClock } from "effect"
import type { ProgressEventInput } from "../src/domain/ProgressEvent.js"
import * as ProgressLive from "../src/layers/ProgressLive.js"
import * as TerminalRenderer from "../src/layers/TerminalRenderer.js"
import { Progress } from "../src/services/Progress.js"
import type { LimiterUsage } from "../src/services/RateLimiter.js"
import { RateLimiter } from "../src/services/RateLimiter.js"

/** A terminal that keeps every write; resizable. */
class FakeTerminal implements TerminalRenderer.TerminalStream {
  readonly writes: Array<string> = []
  isTTY = false
  constructor(public columns: number, public rows: number) {}
  write(chunk: string) {
    this.writes.push(chunk)
    return true
  }
  get text() {
    return this.writes.join("")
  }
}

const usage: Array<LimiterUsage> = [{ provider: "sim", inFlight: 2, concurrency: 10, ratePerSecond: undefined, coolingDownUntil: undefined }]

const limiter = Layer.succeed(RateLimiter, RateLimiter.of({
  settings: { apiConcurrency: 10 },
  call: () => Effect.dieMessage("not used"),
  admit: () => Effect.void,
  throttled: () => Effect.void,
  bandwidth: () => Effect.void,
  usage: Effect.sync(() => usage)
}))

const limits = { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 }

/** Builds Progress, a stub RateLimiter and the renderer on `terminal`, in a scope the test closes. */
const start = Effect.fnUntraced(function*(terminal: FakeTerminal, printed: Array<string>) {
  const base = yield* Effect.console
  const console: Console.Console = { ...base, log: (...args) => Effect.sync(() => void printed.push(args.join(" "))) }
  const scope = yield* Scope.make()
  const renderer = TerminalRenderer.layerWith({ stream: terminal, summary: {}, rss: () => 50_000_000, color: false })
  const context = yield* Layer.buildWithScope(
    renderer.pipe(Layer.provideMerge(Layer.merge(ProgressLive.layer, limiter))),
    scope
  ).pipe(Effect.withConsole(console))
  return { progress: Context.get(context, Progress), scope } as const
})

const album: ReadonlyArray<ProgressEventInput> = [
  { _tag: "JobStarted", inputs: ["sim:album:1"], limits },
  { _tag: "ItemQueued", item: "al", kind: "album", label: "Artist — Album" },
  { _tag: "ItemStarted", item: "al", kind: "album" },
  { _tag: "ItemQueued", item: "t1", kind: "track", label: "01. Intro", parent: "al", sizeBytes: 10_000_000 },
  { _tag: "ItemQueued", item: "t2", kind: "track", label: "02. Song", parent: "al", sizeBytes: 10_000_000 },
  { _tag: "ItemStarted", item: "t1", kind: "track" },
  { _tag: "ItemStarted", item: "t2", kind: "track" }
]

describe("TerminalRenderer", () => {
  it.effect("draws nothing until the job starts", () =>
    Effect.gen(function*() {
      const terminal = new FakeTerminal(80, 24)
      const { scope } = yield* start(terminal, [])
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(terminal.writes.length, 0)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(terminal.writes.length, 0)
    }))

  it.effect("redraws at most ten times a second however many events arrive", () =>
    Effect.gen(function*() {
      const terminal = new FakeTerminal(100, 30)
      const { progress, scope } = yield* start(terminal, [])
      yield* Effect.forEach(album, progress.publish, { discard: true })
      const before = terminal.writes.length
      // 400 progress events over two seconds: one every 5 ms.
      for (let i = 1; i <= 400; i++) {
        yield* progress.publish({ _tag: "TrackBytes", item: i % 2 === 0 ? "t1" : "t2", bytes: i * 12_000 })
        yield* TestClock.adjust("5 millis")
      }
      const frames = terminal.writes.length - before
      assert.isAtMost(frames, 21)
      assert.isAtLeast(frames, 15)
      // The latest frame shows the bars, the active tracks and the level usage.
      const last = terminal.writes[terminal.writes.length - 1]!
      assert.include(terminal.text, "levels albums 1/3  tracks 2/5  api sim 2/10")
      assert.include(terminal.text, "↓ 01. Intro")
      assert.include(terminal.text, "↓ 02. Song")
      assert.include(terminal.text, "▸ Artist — Album")
      assert.include(terminal.text, "rss 50.0 MB")
      assert.include(last, "00:02.0")
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("keeps failures and finished albums above the live area, then clears it for the summary", () =>
    Effect.gen(function*() {
      const terminal = new FakeTerminal(100, 30)
      const printed: Array<string> = []
      const { progress, scope } = yield* start(terminal, printed)
      yield* Effect.forEach(album, progress.publish, { discard: true })
      yield* TestClock.adjust("500 millis")
      yield* progress.publish({ _tag: "ItemFinished", item: "t1", kind: "track", state: "done", bytes: 10_000_000 })
      yield* progress.publish({ _tag: "ItemFinished", item: "t2", kind: "track", state: "failed", reason: "checksum mismatch" })
      yield* progress.publish({ _tag: "ItemFinished", item: "al", kind: "album", state: "failed", reason: "1 of 2 tracks failed" })
      yield* TestClock.adjust("500 millis")
      yield* progress.publish({ _tag: "JobFinished", done: 1, skipped: 0, failed: 1, bytes: 10_000_000, interrupted: false })
      yield* Scope.close(scope, Exit.void)

      assert.include(terminal.text, "✗ track failed: Artist — Album / 02. Song: checksum mismatch\n")
      assert.include(terminal.text, "✗ album failed: Artist — Album: 1 of 2 tracks failed\n")
      // Last thing drawn: erase the live area's lines (log-update's clear), leaving the kept lines.
      assert.match(terminal.writes[terminal.writes.length - 1]!, /^(\u001B\[2K\u001B\[1A)+\u001B\[2K\u001B\[G$/)
      assert.strictEqual(printed.length, 1)
      assert.match(printed[0]!, /^\nSummary\n {2}tracks: 1 done, 0 skipped, 1 failed\n/)
      assert.include(printed[0]!, "  - Artist — Album / 02. Song: checksum mismatch")
      assert.include(printed[0]!, "peak memory: 50.0 MB RSS")
    }))

  it.effect("lays out each frame for the terminal's current size", () =>
    Effect.gen(function*() {
      const terminal = new FakeTerminal(120, 30)
      const { progress, scope } = yield* start(terminal, [])
      yield* Effect.forEach(album, progress.publish, { discard: true })
      yield* TestClock.adjust("200 millis")
      const wide = terminal.writes.length
      terminal.columns = 40
      terminal.rows = 5
      yield* TestClock.adjust("200 millis")
      const narrow = terminal.writes.slice(wide).join("")
      // The narrow frame: four lines of at most 39 columns (one spare), the last one saying what is left out.
      const lines = narrow.replace(/\u001B\[[0-9;]*[A-Za-z]/g, "").split("\n").filter((line) => line.length > 0)
      assert.isAtMost(Math.max(...lines.map((line) => line.length)), 39)
      assert.include(narrow, "more in flight")
      yield* Scope.close(scope, Exit.void)
    }))
})
