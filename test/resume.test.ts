import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc, Fiber, Option, Random, TestClock } from "effect"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import { defaultSettings } from "../src/domain/Settings.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import { StorageMemory } from "../src/layers/StorageMemory.js"
import { download } from "../src/programs/download.js"
import { JobStore } from "../src/services/JobStore.js"
import { runVirtual, testEngine } from "./support/testEngine.js"

const settings = { ...defaultJobSettings }

/** The library as a map of final paths to their bytes, as hex digests for short diffs. */
const library = Effect.map(Effect.flatMap(StorageMemory, (memory) => memory.files), (files) =>
  new Map([...files].filter(([path]) => !path.endsWith(".part")).map(([path, bytes]) => [path, bytes.length])))

describe("durable state", () => {
  it.effect("a second run of the same artist makes no API call and no download", () =>
    Effect.gen(function*() {
      const server = yield* SimServer
      const first = yield* runVirtual(download(["sim:artist:1"], settings))
      const before = (yield* server.requests).length
      const second = yield* runVirtual(download(["sim:artist:1"], settings))
      assert.strictEqual(first.done, 40)
      assert.strictEqual(second.skipped, 40)
      assert.strictEqual(second.done, 0)
      assert.strictEqual((yield* server.requests).length, before, "no request at all the second time")
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("a re-run skips each archived track where it lies, without waiting for a download slot", () =>
    Effect.gen(function*() {
      const recorder = yield* ProgressRecorder
      yield* runVirtual(download(["sim:artist:1"], settings))
      const before = (yield* recorder.events).length
      const second = yield* runVirtual(download(["sim:artist:1"], { ...settings, tracks: 1, tracksPerAlbum: 1 }))
      const tracks = (yield* recorder.events).slice(before).filter((event) => "kind" in event && event.kind === "track")
      assert.strictEqual(second.skipped, 40)
      assert.deepStrictEqual(tracks.filter((event) => event._tag === "ItemStarted"), [], "no track took a permit")
      const reasons = tracks.flatMap((event) => event._tag === "ItemFinished" ? [event.reason] : [])
      assert.deepStrictEqual(new Set(reasons), new Set(["already in the library"]))
      assert.strictEqual(reasons.length, 40)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("a re-run skips a track's copies too: whole where they lie, they wait for nothing", () =>
    Effect.gen(function*() {
      const recorder = yield* ProgressRecorder
      // Playlist 1 holds tracks of album 11: each is downloaded once, then copied into the playlist's folders.
      const withCopies = { ...settings, library: { ...defaultSettings, forceAlbumFormat: true } }
      const first = yield* runVirtual(download(["sim:album:11", "sim:playlist:1"], withCopies))
      const copies = (yield* recorder.events).filter((event) =>
        event._tag === "ItemFinished" && event.reason?.startsWith("copied from") === true
      )
      assert.isAtLeast(copies.length, 2)
      const before = (yield* recorder.events).length
      const second = yield* runVirtual(download(["sim:album:11", "sim:playlist:1"], withCopies))
      const tracks = (yield* recorder.events).slice(before).filter((event) => "kind" in event && event.kind === "track")
      assert.strictEqual(second.skipped, first.done + first.skipped)
      assert.strictEqual(second.done + second.failed, 0)
      assert.deepStrictEqual(tracks.filter((event) => event._tag === "ItemStarted"), [], "no track took a permit")
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("--force downloads again what the archive holds", () =>
    Effect.gen(function*() {
      const server = yield* SimServer
      yield* runVirtual(download(["sim:album:11"], settings))
      const again = yield* runVirtual(download(["sim:album:11"], { ...settings, force: true }))
      assert.strictEqual(again.done, 10)
      const streams = (yield* server.requests).filter((r) => r.endpoint === "stream")
      assert.strictEqual(streams.length, 20)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("a resumed job continues from its .part files: every byte is sent once", () =>
    Effect.gen(function*() {
      const server = yield* SimServer
      const store = yield* JobStore
      const fiber = yield* Effect.fork(Effect.withRandom(download(["sim:album:11"], settings), Random.make(1)))
      yield* TestClock.adjust(Duration.millis(400))
      yield* Fiber.interrupt(fiber)
      const job = yield* store.job()
      assert.strictEqual(job.state, "interrupted")
      const report = yield* runVirtual(download(["sim:album:11"], settings, { resume: job }))
      assert.strictEqual(report.done + report.skipped, 10)
      const sent = [...(yield* server.bytesServed)].reduce((sum, [, bytes]) => sum + bytes, 0)
      const size = server.catalog.album("11")!.trackIds.reduce((sum, id) => sum + server.catalog.track(id)!.sizeBytes!, 0)
      assert.strictEqual(sent, size, "no byte sent twice")
      const items = yield* store.items(job.id)
      assert.strictEqual(items.filter((item) => item.kind === "track" && item.state === "done").length, 10)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  // A few fixed cases in every run (never flaky); `npm run test:deep` runs ten times as many from fresh seeds.
  const deep = Math.max(1, Number(process.env.LYRA_PROPERTY_RUNS ?? "1") || 1)
  const checks = { numRuns: 4 * deep, ...(deep === 1 ? { seed: 20_261_124 } : {}) }
  const faulty = () => testEngine({ profile: SimProfile.exact({ errorRate: 0.05 }) })

  it.effect.prop(
    "interrupting at any virtual time and resuming ends as an uninterrupted run",
    [fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 1, max: 1000 })],
    ([at, seed]) =>
      Effect.gen(function*() {
        const reference = yield* Effect.provide(
          Effect.zipRight(runVirtual(download(["sim:album:11"], settings), seed), library),
          faulty()
        )
        const resumed = yield* Effect.gen(function*() {
          const fiber = yield* Effect.fork(Effect.withRandom(download(["sim:album:11"], settings), Random.make(seed)))
          yield* TestClock.adjust(Duration.millis(at))
          yield* Fiber.interrupt(fiber)
          // Interrupted before the job began (while its input was looked up): nothing to resume, start it.
          const job = yield* Effect.option(Effect.flatMap(JobStore, (store) => store.job()))
          yield* runVirtual(download(["sim:album:11"], settings, { resume: Option.getOrUndefined(job) }), seed)
          return yield* library
        }).pipe(Effect.provide(faulty()))
        assert.deepStrictEqual(resumed, reference)
      }),
    { timeout: 600_000, fastCheck: checks }
  )
})
