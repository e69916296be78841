import { assert, describe, it } from "@effect/vitest"
import type { Console } from "effect"
import { Context, Effect, Exit, Layer, Scope, TestClock } from "effect"
import type { ProgressEventInput } from "../src/domain/ProgressEvent.js"
import * as PlainRenderer from "../src/layers/PlainRenderer.js"
import * as ProgressLive from "../src/layers/ProgressLive.js"
import { Progress } from "../src/services/Progress.js"

/** A Console that keeps what `log` prints; `slow` makes each line cost many scheduler turns. */
const captureConsole = Effect.fnUntraced(function*(slow = false) {
  const lines: Array<string> = []
  const base = yield* Effect.console
  const keep = (args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.join(" ")))
  const console: Console.Console = {
    ...base,
    log: (...args) => slow ? Effect.repeatN(Effect.yieldNow(), 20).pipe(Effect.zipRight(keep(args))) : keep(args)
  }
  return { console, lines } as const
})

type Step = ProgressEventInput | { readonly wait: number }

/** Builds Progress and the renderer, replays the steps under TestClock, then closes the scope. */
const run = Effect.fnUntraced(function*(
  renderer: Layer.Layer<never, never, Progress>,
  steps: ReadonlyArray<Step>,
  slowConsole = false
) {
  const { console, lines } = yield* captureConsole(slowConsole)
  yield* Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(Layer.provideMerge(renderer, ProgressLive.layer), scope)
    const progress = Context.get(context, Progress)
    for (const step of steps) {
      if ("wait" in step) yield* TestClock.adjust(step.wait)
      else yield* progress.publish(step)
    }
    // No yield between the last publish and the close: the finalizer must drain.
    yield* Scope.close(scope, Exit.void)
  }).pipe(Effect.withConsole(console))
  return lines
})

const job: ReadonlyArray<Step> = [
  { _tag: "JobStarted", inputs: ["sim:artist/7"], limits: { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 } },
  { wait: 100 },
  { _tag: "ItemQueued", item: "al1", kind: "album", label: "Artist — Album" },
  { _tag: "ItemStarted", item: "al1", kind: "album" },
  { _tag: "ItemQueued", item: "t1", kind: "track", label: "01. Intro", parent: "al1", path: "Artist/Album/01. Intro.flac" },
  { _tag: "ItemQueued", item: "t2", kind: "track", label: "02. Song", parent: "al1" },
  { _tag: "ItemQueued", item: "t3", kind: "track", label: "03. Outro", parent: "al1" },
  { _tag: "ItemStarted", item: "t1", kind: "track" },
  { _tag: "ItemStarted", item: "t2", kind: "track" },
  { wait: 400 },
  { _tag: "TrackBytes", item: "t1", bytes: 6_000_000, totalBytes: 12_300_000 },
  { _tag: "RateLimited", provider: "sim", status: 429, retryAfterMillis: 2000 },
  { _tag: "CoolingDown", provider: "sim", untilMillis: 2500 },
  { _tag: "Retrying", provider: "sim", operation: "track.source", attempt: 2, delayMillis: 2000, reason: "HTTP 429" },
  { wait: 2000 },
  { _tag: "ItemFinished", item: "t1", kind: "track", state: "done", bytes: 12_300_000 },
  { _tag: "ItemFinished", item: "t2", kind: "track", state: "skipped", reason: "already in library" },
  { _tag: "ItemStarted", item: "t3", kind: "track" },
  { _tag: "QuotaWaiting", provider: "sim", untilMillis: 32_500 },
  { wait: 63_450 },
  { _tag: "ItemFinished", item: "t3", kind: "track", state: "failed", reason: "checksum mismatch" },
  { _tag: "ItemFinished", item: "al1", kind: "album", state: "done" },
  { _tag: "JobFinished", done: 1, skipped: 1, failed: 1, bytes: 12_300_000, interrupted: false }
]

describe("PlainRenderer", () => {
  it.effect("prints one line per state change, stamped from the job's start", () =>
    Effect.gen(function*() {
      const lines = yield* run(PlainRenderer.layer, job)
      assert.deepStrictEqual(lines, [
        "[00:00.0] job started: sim:artist/7 (albums 3, tracks 5, 2 per album, api 10)",
        "[00:00.1] album started: Artist — Album",
        "[00:00.5] rate limited by sim (HTTP 429), retry after 2s",
        "[00:00.5] sim cooling down 2s",
        "[00:00.5] retrying sim track.source (attempt 2) in 2s: HTTP 429",
        "[00:02.5] track done: Artist — Album / 01. Intro (12.3 MB)",
        "[00:02.5] track skipped: Artist — Album / 02. Song: already in library",
        "[00:02.5] sim quota reached, waiting 30s",
        "[01:05.9] track failed: Artist — Album / 03. Outro: checksum mismatch",
        "[01:05.9] album done: Artist — Album (1 done, 1 skipped, 1 failed)",
        "[01:05.9] job finished: 1 done, 1 skipped, 1 failed, 12.3 MB"
      ])
      for (const line of lines) assert.notInclude(line, "\x1b")
    }))

  it.effect("quiet prints failures only", () =>
    Effect.gen(function*() {
      const lines = yield* run(PlainRenderer.layerQuiet, job)
      assert.deepStrictEqual(lines, ["[01:05.9] track failed: Artist — Album / 03. Outro: checksum mismatch"])
    }))

  it.effect("loses no line when a slow console is far behind at close", () =>
    Effect.gen(function*() {
      const steps: Array<Step> = [
        { _tag: "JobStarted", inputs: ["x"], limits: { albums: 1, tracks: 1, tracksPerAlbum: 1, api: 1 } }
      ]
      for (let i = 0; i < 500; i++) {
        steps.push({ _tag: "ItemQueued", item: `t${i}`, kind: "track", label: `track ${i}` })
        steps.push({ _tag: "ItemFinished", item: `t${i}`, kind: "track", state: "done" })
      }
      const lines = yield* run(PlainRenderer.layer, steps, true)
      assert.strictEqual(lines.length, 501)
      assert.strictEqual(lines[500], "[00:00.0] track done: track 499")
    }))

  it.effect("labels unknown items by id and times events before JobStarted from the first event", () =>
    Effect.gen(function*() {
      const lines = yield* run(PlainRenderer.layer, [
        { _tag: "ItemStarted", item: "pl9", kind: "playlist" },
        { wait: 1234 },
        { _tag: "ItemFinished", item: "pl9", kind: "playlist", state: "failed", reason: "not found" }
      ])
      assert.deepStrictEqual(lines, [
        "[00:00.0] playlist started: pl9",
        "[00:01.2] playlist failed: pl9: not found"
      ])
    }))

  it.live("gives up on a stuck console after the drain timeout", () =>
    Effect.gen(function*() {
      const base = yield* Effect.console
      const stuck: Console.Console = { ...base, log: () => Effect.never }
      const scope = yield* Scope.make()
      const renderer = PlainRenderer.layerWith({ drainTimeout: "50 millis" })
      const context = yield* Layer.buildWithScope(Layer.provideMerge(renderer, ProgressLive.layer), scope).pipe(
        Effect.withConsole(stuck)
      )
      yield* Context.get(context, Progress).publish({ _tag: "ItemStarted", item: "a", kind: "album" })
      const exit = yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("2 seconds"), Effect.exit)
      assert.isTrue(Exit.isSuccess(exit))
    }))
})
