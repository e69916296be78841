import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Fiber, Layer, Scope, Stream, TestClock } from "effect"
import type { ProgressEventInput } from "../src/domain/ProgressEvent.js"
import * as ProgressLive from "../src/layers/ProgressLive.js"
import * as Recorder from "../src/layers/ProgressRecorder.js"
import { Progress } from "../src/services/Progress.js"

const limits = { albums: 3, tracks: 5, tracksPerAlbum: 2, api: 10 }

const albumEvents = (album: string, tracks: number): ReadonlyArray<ProgressEventInput> => [
  { _tag: "ItemQueued", item: album, kind: "album", label: `Artist — ${album}` },
  { _tag: "ItemStarted", item: album, kind: "album" },
  ...Array.from({ length: tracks }, (_, i): ReadonlyArray<ProgressEventInput> => {
    const item = `${album}/t${i + 1}`
    return [
      { _tag: "ItemQueued", item, kind: "track", label: `0${i + 1}. Song`, parent: album },
      { _tag: "ItemStarted", item, kind: "track" }
    ]
  }).flat()
]

/** Builds Progress in a scope the test closes itself. */
const buildIn = Effect.fnUntraced(function*(scope: Scope.Scope) {
  const context = yield* Layer.buildWithScope(ProgressLive.layer, scope)
  return Context.get(context, Progress)
})

describe("ProgressLive", () => {
  it.effect("stamps events with the Clock's time, in publication order", () =>
    Effect.gen(function*() {
      const progress = yield* Progress
      const recorder = yield* Recorder.ProgressRecorder
      yield* TestClock.setTime(10_000)
      yield* progress.publish({ _tag: "JobStarted", inputs: ["sim:artist/1"], limits })
      yield* TestClock.adjust("1500 millis")
      yield* progress.publish({ _tag: "Retrying", provider: "sim", operation: "album", attempt: 1, delayMillis: 200, reason: "timeout" })
      yield* TestClock.adjust("250 millis")
      yield* progress.publish({ _tag: "JobFinished", done: 0, skipped: 0, failed: 0, bytes: 0, interrupted: false })

      const events = yield* recorder.events
      assert.deepStrictEqual(events.map((event) => [event._tag, event.at]), [
        ["JobStarted", 10_000],
        ["Retrying", 11_500],
        ["JobFinished", 11_750]
      ])
      const snapshot = yield* progress.snapshot
      assert.strictEqual(snapshot.startedAt, 10_000)
      assert.strictEqual(snapshot.finishedAt, 11_750)
      assert.strictEqual(snapshot.retries, 1)
    }).pipe(Effect.provide(Recorder.layer)))

  it.effect("folds every event into one live snapshot", () =>
    Effect.gen(function*() {
      const progress = yield* Progress
      const before = yield* progress.snapshot
      yield* progress.publish({ _tag: "JobStarted", inputs: ["x"], limits })
      yield* Effect.forEach(albumEvents("a1", 3), progress.publish, { discard: true })
      yield* progress.publish({ _tag: "TrackBytes", item: "a1/t1", bytes: 400, totalBytes: 1000 })
      yield* progress.publish({ _tag: "ItemFinished", item: "a1/t1", kind: "track", state: "done", bytes: 1000 })
      yield* progress.publish({ _tag: "ItemFinished", item: "a1/t2", kind: "track", state: "skipped", reason: "exists" })
      yield* progress.publish({ _tag: "ItemFinished", item: "a1/t3", kind: "track", state: "failed", reason: "checksum" })
      yield* progress.publish({ _tag: "ItemFinished", item: "a1", kind: "album", state: "done" })
      yield* progress.publish({ _tag: "RateLimited", provider: "sim", status: 429, retryAfterMillis: 2000 })

      const snapshot = yield* progress.snapshot
      // One instance, updated in place.
      assert.strictEqual(snapshot, before)
      assert.deepStrictEqual(snapshot.tally("track"), { done: 1, skipped: 1, failed: 1, pending: 0 })
      assert.deepStrictEqual(snapshot.tally("album"), { done: 1, skipped: 0, failed: 0, pending: 0 })
      assert.strictEqual(snapshot.bytes, 1000)
      assert.strictEqual(snapshot.rateLimited, 1)
      assert.deepStrictEqual(snapshot.failures().map((view) => [view.item, view.reason]), [["a1/t3", "checksum"]])
    }).pipe(Effect.provide(ProgressLive.layer)))

  it.scoped("a subscriber sees only the events published after it subscribed", () =>
    Effect.gen(function*() {
      const progress = yield* Progress
      yield* progress.publish({ _tag: "JobStarted", inputs: ["x"], limits })
      const stream = yield* progress.subscribe
      const fiber = yield* stream.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      yield* progress.publish({ _tag: "ItemQueued", item: "a", kind: "album", label: "A" })
      yield* progress.publish({ _tag: "ItemStarted", item: "a", kind: "album" })
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      assert.deepStrictEqual(seen.map((event) => event._tag), ["ItemQueued", "ItemStarted"])
    }).pipe(Effect.provide(ProgressLive.layer)))

  it.effect("closing the layer's scope ends every stream after what was already published", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const progress = yield* buildIn(scope)
      const streamScope = yield* Scope.make()
      const first = yield* progress.subscribe.pipe(Scope.extend(streamScope))
      const second = yield* progress.subscribe.pipe(Scope.extend(streamScope))
      // Nobody reads until after the close: the events must still be there.
      yield* Effect.forEach(albumEvents("a1", 2), progress.publish, { discard: true })
      yield* Scope.close(scope, Exit.void)
      // Publishing after close neither fails nor blocks, and reaches no stream.
      yield* progress.publish({ _tag: "ItemStarted", item: "late", kind: "track" })

      const a = Chunk.toReadonlyArray(yield* Stream.runCollect(first))
      const b = Chunk.toReadonlyArray(yield* Stream.runCollect(second))
      assert.strictEqual(a.length, 6)
      assert.deepStrictEqual(a, b)
      // Subscribing after close gets an empty stream rather than one that never ends.
      const late = yield* progress.subscribe.pipe(Scope.extend(streamScope))
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(late)), 0)
      yield* Scope.close(streamScope, Exit.void)
    }))

  it.effect("closing the subscriber's scope ends its stream after draining, leaving others running", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const progress = yield* buildIn(scope)
      const mine = yield* Scope.make()
      const stream = yield* progress.subscribe.pipe(Scope.extend(mine))
      const other = yield* Scope.make()
      const otherStream = yield* progress.subscribe.pipe(Scope.extend(other))
      yield* progress.publish({ _tag: "ItemQueued", item: "a", kind: "album", label: "A" })
      yield* progress.publish({ _tag: "ItemStarted", item: "a", kind: "album" })
      yield* Scope.close(mine, Exit.void)
      yield* progress.publish({ _tag: "ItemFinished", item: "a", kind: "album", state: "done" })

      const drained = Chunk.toReadonlyArray(yield* Stream.runCollect(stream))
      assert.deepStrictEqual(drained.map((event) => event._tag), ["ItemQueued", "ItemStarted"])
      const rest = Chunk.toReadonlyArray(yield* otherStream.pipe(Stream.take(3), Stream.runCollect))
      assert.deepStrictEqual(rest.map((event) => event._tag), ["ItemQueued", "ItemStarted", "ItemFinished"])
      yield* Scope.close(other, Exit.void)
      yield* Scope.close(scope, Exit.void)
    }))

  it.scoped("concurrent publishers: recorder and subscribers agree on one order, times never decrease", () =>
    Effect.gen(function*() {
      const progress = yield* Progress
      const recorder = yield* Recorder.ProgressRecorder
      const stream = yield* progress.subscribe
      const collector = yield* stream.pipe(Stream.take(200), Stream.runCollect, Effect.fork)
      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, f) => f),
        (f) =>
          Effect.forEach(
            Array.from({ length: 10 }, (_, i) => i),
            (i) =>
              progress.publish({ _tag: "TrackBytes", item: `f${f}`, bytes: i }).pipe(
                Effect.zipRight(i % 3 === 0 ? TestClock.adjust("1 millis") : Effect.yieldNow())
              ),
            { discard: true }
          ),
        { concurrency: "unbounded", discard: true }
      )
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(collector))
      const recorded = yield* recorder.events
      assert.strictEqual(recorded.length, 200)
      assert.deepStrictEqual(seen, recorded)
      for (let i = 1; i < recorded.length; i++) {
        assert.isTrue(recorded[i]!.at >= recorded[i - 1]!.at)
      }
    }).pipe(Effect.provide(Recorder.layer)))
})
