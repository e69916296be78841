import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Random, Supervisor, TestClock } from "effect"
import { createHash } from "node:crypto"
import type { JobSettings } from "../src/domain/JobSettings.js"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import { StorageMemory } from "../src/layers/StorageMemory.js"
import { download } from "../src/programs/download.js"
import { RateLimiter } from "../src/services/RateLimiter.js"
import { finalStates, peakInWindow, peakRunning } from "./support/levels.js"
import { makespan, runVirtual, testEngine } from "./support/testEngine.js"

const settings = (overrides: Partial<JobSettings> = {}): JobSettings => ({ ...defaultJobSettings, ...overrides })

/** No bandwidth limit: every track costs exactly its two 40 ms round trips (source, then first byte). */
const latencyOnly = SimProfile.exact({ bandwidth: Infinity })

const recorded = Effect.flatMap(ProgressRecorder, (recorder) => recorder.events)

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

describe("download: exact virtual makespans", () => {
  // The named album is looked up (40 ms) before the job starts; then one batched lookup of 10 ids
  // (40 ms + 10 × 1 ms), then tracks in rounds of 80 ms.
  for (
    const [tracks, expected] of [[1, 50 + 10 * 80], [3, 50 + 4 * 80], [5, 50 + 2 * 80], [10, 50 + 80]] as const
  ) {
    it.effect(`an album of 10 tracks with --tracks ${tracks} takes ${expected} ms`, () =>
      Effect.gen(function*() {
        const report = yield* runVirtual(download(["sim:album:11"], settings({ tracks, tracksPerAlbum: tracks })))
        assert.strictEqual(report.done, 10)
        assert.strictEqual(makespan(yield* recorded), expected)
      }).pipe(Effect.provide(testEngine({ profile: latencyOnly }))))
  }

  it.effect("sequential settings add up every round trip and transfer, as OrpheusDL would", () =>
    Effect.gen(function*() {
      const server = yield* SimServer
      const album = server.catalog.album("11")!
      const transfer = album.trackIds.reduce(
        (sum, id) => sum + Math.round(server.catalog.track(id)!.sizeBytes! * 1000 / 4_000_000),
        0
      )
      yield* runVirtual(download(["sim:album:11"], settings({ albums: 1, tracks: 1, tracksPerAlbum: 1 })))
      assert.strictEqual(makespan(yield* recorded), 50 + 10 * 80 + transfer)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact(), limits: { apiConcurrency: 1 } }))))

  it.effect("a freed slot goes to the album's two longest tracks first, then the others in order", () =>
    Effect.gen(function*() {
      const server = yield* SimServer
      const ids = server.catalog.album("12")!.trackIds
      const size = (id: string) => server.catalog.track(id)!.sizeBytes!
      const longest = [...ids].sort((a, b) => size(b) - size(a)).slice(0, 2)
      assert.isTrue(
        longest.every((id) => ids.indexOf(id) > 2) && ids.indexOf(longest[0]!) > ids.indexOf(longest[1]!),
        "the album's two longest tracks are not among the three that start at once, and come in reverse order"
      )
      // Three start at once, in track order; of the others, the two longest go first, then the rest in order.
      const order = [...ids.slice(0, 3), ...longest, ...ids.slice(3).filter((id) => !longest.includes(id))]
      yield* runVirtual(download(["sim:album:12"], settings({ tracks: 3, tracksPerAlbum: 3 })))
      const events = yield* recorded
      const started = events.flatMap((e) => e._tag === "ItemStarted" && e.kind === "track" ? [e.item] : [])
      assert.deepStrictEqual(started, order.map((id) => `sim:track:${id}`))
      // Each track holds its slot for two 40 ms round trips and its transfer at 4 MB/s.
      const slots = [0, 0, 0]
      for (const id of order) {
        const freed = slots.indexOf(Math.min(...slots))
        slots[freed] = slots[freed]! + 80 + Math.round(size(id) * 1000 / 4_000_000)
      }
      assert.strictEqual(makespan(events), 50 + Math.max(...slots))
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("one track at a time, an album keeps track order", () =>
    Effect.gen(function*() {
      const ids = (yield* SimServer).catalog.album("12")!.trackIds
      yield* runVirtual(download(["sim:album:12"], settings({ tracks: 5, tracksPerAlbum: 1 })))
      const started = (yield* recorded).flatMap((e) => e._tag === "ItemStarted" && e.kind === "track" ? [e.item] : [])
      assert.deepStrictEqual(started, ids.map((id) => `sim:track:${id}`))
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))
})

describe("download: limits", () => {
  it.effect("no level ever exceeds its limit, under faults and rate limits", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(
        download(["sim:artist:1", "sim:artist:2", "sim:playlist:1"], settings({ albums: 2, tracks: 4, tracksPerAlbum: 2 }))
      )
      const events = yield* recorded
      const stats = yield* (yield* SimServer).stats
      assert.isAbove(report.done, 50)
      assert.strictEqual(peakRunning(events, "album", "playlist").peak, 2)
      assert.isAtMost(peakRunning(events, "track").peak, 4)
      assert.isAtMost(peakRunning(events, "track").peakPerParent, 2)
      assert.strictEqual(peakRunning(events, "track").peak, 4, "the track level is used in full")
      assert.isAtMost(stats.maxApiInFlight, 3)
      assert.isAtMost(stats.maxTransfers, 4)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.make(), limits: { apiConcurrency: 3 } }))))

  it.effect("many inputs are walked --albums at a time, in order, with every album permit in use", () =>
    Effect.gen(function*() {
      const inputs = Array.from({ length: 6 }, (_, i) => `sim:artist:${i + 1}`)
      const report = yield* runVirtual(download(inputs, settings({ albums: 2 })))
      const events = yield* recorded
      assert.strictEqual(report.failed, 0)
      assert.strictEqual(peakRunning(events, "artist").peak, 2)
      assert.strictEqual(peakRunning(events, "album").peak, 2)
      const artists = events.filter((e) => e._tag === "ItemStarted" && e.kind === "artist").map((e) =>
        (e as { item: string }).item
      )
      assert.deepStrictEqual(artists.slice(2), inputs.slice(2), "a walk starts as an earlier one ends, in input order")
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))

  it.effect("albums that start first finish first", () =>
    Effect.gen(function*() {
      yield* runVirtual(download(["sim:artist:1", "sim:artist:2"], settings()))
      const finished = (yield* recorded).filter((e) => e._tag === "ItemFinished" && e.kind === "album").map((e) =>
        (e as { item: string }).item
      )
      // Discovery order: artist 1's albums in its order, then artist 2's.
      assert.deepStrictEqual(finished, [
        "sim:album:11",
        "sim:album:12",
        "sim:album:13",
        "sim:album:14",
        "sim:album:21",
        "sim:album:22",
        "sim:album:23",
        "sim:album:24"
      ].filter((item) => finished.includes(item)))
      assert.strictEqual(finished.length, 8)
    }).pipe(Effect.provide(testEngine({
      // Latencies vary, but nothing fails: a retry's back-off is the one thing that may reorder albums.
      profile: SimProfile.exact({ latency: { _tag: "Uniform", min: 10, max: 120 } })
    }))))

  it.effect("--rate paces every window, after the burst", () =>
    Effect.gen(function*() {
      yield* runVirtual(download(["sim:artist:1"], settings()))
      const requests = yield* (yield* SimServer).requests
      const times = requests.map((r) => r.at)
      assert.isAbove(times.length, 80)
      for (const window of [100, 500, 1000, 5000]) {
        assert.isAtMost(peakInWindow(times, window), Math.floor(10 * window / 1000) + 2, `window ${window} ms`)
      }
    }).pipe(Effect.provide(testEngine({
      profile: SimProfile.exact(),
      limits: { apiConcurrency: 10, rate: { perSecond: 10, burst: 2 } }
    }))))

  it.effect("--quota wait holds calls to the next window", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const requests = yield* (yield* SimServer).requests
      assert.strictEqual(report.done, 10)
      // 22 calls (album, batch, 10 sources, 10 stream opens) at 5 per 10 s: the last in the fifth window.
      const windows = new Map<number, number>()
      for (const r of requests) windows.set(Math.floor(r.at / 10_000), (windows.get(Math.floor(r.at / 10_000)) ?? 0) + 1)
      assert.deepStrictEqual([...windows.values()], [5, 5, 5, 5, 2])
    }).pipe(Effect.provide(testEngine({
      profile: latencyOnly,
      limits: { apiConcurrency: 10, quota: { limit: 5, window: Duration.seconds(10), onExhausted: "wait" } }
    }))))

  it.effect("--quota stop ends the job at once, every item failed with the reason", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const events = yield* recorded
      const failed = [...finalStates(events).values()].filter((e) => e.state === "failed" && e.kind === "track")
      assert.strictEqual(report.done + report.failed >= 10, true)
      assert.isAbove(failed.length, 0)
      assert.match(failed[0]!.reason!, /quota of 5 calls per window used up/)
      assert.isBelow(makespan(events), 1000)
    }).pipe(Effect.provide(testEngine({
      profile: latencyOnly,
      limits: { apiConcurrency: 10, quota: { limit: 5, window: Duration.hours(1), onExhausted: "stop" } }
    }))))

  it.effect("--max-bandwidth caps the bytes of all transfers together", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const served = [...(yield* (yield* SimServer).bytesServed).values()].reduce((a, b) => a + b, 0)
      assert.strictEqual(report.done, 10)
      // 1 MB/s after a 100 kB burst: the job cannot beat bytes / rate.
      assert.isAtLeast(makespan(yield* recorded), (served - 100_000) / 1000)
    }).pipe(Effect.provide(testEngine({
      profile: latencyOnly,
      limits: { apiConcurrency: 10, maxBandwidth: 1_000_000 }
    }))))
})

describe("download: failures and retries", () => {
  it.effect("a failing track is failed with its reason; its siblings finish", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const finals = finalStates(yield* recorded)
      assert.strictEqual(report.done, 9)
      assert.strictEqual(report.failed, 1)
      assert.match(finals.get("sim:track:1103")!.reason!, /not found/)
      assert.strictEqual(finals.get("sim:album:11")!.state, "failed")
      assert.strictEqual(finals.get("sim:album:11")!.reason, "1 of 10 tracks failed")
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact({ failTracks: ["1103"] }) }))))

  it.effect("an unknown album named as input is bad usage, refused before the job starts", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(runVirtual(download(["sim:album:999999"], settings())))
      assert.strictEqual(error._tag, "UsageError")
      assert.strictEqual(error.message, "sim:album:999999: no such album")
      assert.deepStrictEqual(yield* recorded, [])
    }).pipe(Effect.provide(testEngine({ profile: latencyOnly }))))

  it.effect("a corrupt transfer is caught by its checksum and fetched again", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const server = yield* SimServer
      const files = yield* (yield* StorageMemory).files
      const retries = (yield* recorded).filter((e) => e._tag === "Retrying")
      assert.strictEqual(report.done, 10)
      assert.strictEqual(retries.length, 1)
      assert.match((retries[0] as { reason: string }).reason, /integrity check failed/)
      const [path, bytes] = [...files].find(([path]) => path.includes("/02. "))!
      assert.isFalse(path.endsWith(".part"))
      assert.strictEqual(sha256(bytes), createHash("sha256").update(bytes).digest("hex"))
      assert.strictEqual(bytes.length, server.catalog.track("1102")!.sizeBytes)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact({ corruptTracks: ["1102"] }) }))))

  it.effect("Retry-After pauses every call to the provider, then the retry goes exactly when it ends", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], settings()))
      const events = yield* recorded
      const requests = yield* (yield* SimServer).requests
      assert.strictEqual(report.done, 10)
      const cooldowns = events.filter((e): e is Extract<ProgressEvent, { _tag: "CoolingDown" }> =>
        e._tag === "CoolingDown"
      )
      assert.isAbove(cooldowns.length, 0)
      for (const cooldown of cooldowns) {
        // Nothing is sent while cooling down, and the first call after it goes at its very end.
        const from = cooldown.at
        const until = cooldown.untilMillis
        assert.isFalse(requests.some((r) => r.at > from && r.at < until), `a request inside ${from}..${until}`)
        assert.isTrue(requests.some((r) => r.at === until), `no request at ${until}`)
      }
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact({ rate: 4, burst: 4, bandwidth: Infinity }) }))))

  it.effect("transient faults are retried on a jittered exponential schedule, exactly the same for a seed", () => {
    const run = Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:artist:1"], settings()), 7)
      const events = yield* recorded
      const start = events[0]!.at
      const retries = events.filter((e): e is Extract<ProgressEvent, { _tag: "Retrying" }> => e._tag === "Retrying")
        .map((e) => ({ ...e, at: e.at - start }))
      return { report, retries }
    })
    const engine = testEngine({
      profile: SimProfile.exact({ errorRate: 0.1, seed: 3 }),
      retry: { retries: 6, baseDelay: Duration.millis(100), maxDelay: Duration.seconds(2) }
    })
    return Effect.gen(function*() {
      const first = yield* Effect.provide(run, engine)
      const second = yield* Effect.provide(run, engine)
      assert.strictEqual(first.report.done, 40)
      assert.isAbove(first.retries.length, 3)
      assert.deepStrictEqual(first.retries, second.retries)
      for (const retry of first.retries) {
        const nominal = Math.min(100 * 2 ** (retry.attempt - 1), 2000)
        assert.isAtLeast(retry.delayMillis, Math.min(nominal * 0.8, 2000) - 1)
        assert.isAtMost(retry.delayMillis, Math.min(nominal * 1.2, 2000) + 1)
      }
    })
  })
})

describe("download: sharing and interruption", () => {
  it.effect("a track named twice, on two inputs, is fetched once and placed where each asks", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(
        download(["sim:album:11", "sim:album:11", "sim:track:1101", "sim:artist:1", "sim:playlist:1"], settings())
      )
      const server = yield* SimServer
      const requests = yield* server.requests
      const served = yield* server.bytesServed
      const files = yield* (yield* StorageMemory).files
      assert.strictEqual(report.failed, 0)
      assert.strictEqual(requests.filter((r) => r.endpoint === "album" && r.id === "11").length, 1)
      for (const [id, bytes] of served) {
        assert.strictEqual(bytes, server.catalog.track(id)!.sizeBytes, `track ${id} sent once`)
      }
      const playlist = server.catalog.playlist("1")!
      const shared = playlist.trackIds.filter((id) => id.startsWith("11") && id.length === 4)
      assert.isAbove(shared.length, 0, "playlist 1 shares tracks with artist 1")
      const inPlaylistFolder = [...files.keys()].filter((path) => path.startsWith(`${playlist.name}/`))
      assert.strictEqual(inPlaylistFolder.length, playlist.trackIds.length)
    }).pipe(Effect.provide(testEngine({ profile: latencyOnly }))))

  it.effect("interrupting mid-job leaves no running fiber, no open request and no partial final file", () =>
    Effect.gen(function*() {
      // The limiter's per-provider machinery outlives jobs by design: set it up before the job.
      yield* Effect.flatMap(RateLimiter, (limiter) => limiter.call("sim", Effect.void))
      const supervisor = yield* Supervisor.track
      const fiber = yield* download(["sim:artist:1"], settings()).pipe(
        Effect.withRandom(Random.make(1)),
        Effect.supervised(supervisor),
        Effect.fork
      )
      yield* TestClock.adjust(Duration.millis(1234))
      yield* Fiber.interrupt(fiber)
      const server = yield* SimServer
      const stats = yield* server.stats
      const files = yield* (yield* StorageMemory).files
      const alive = yield* supervisor.value
      assert.strictEqual(alive.length, 0, "no fiber outlives the job")
      assert.strictEqual(stats.apiInFlight + stats.transfers, 0)
      const finals = [...files].filter(([path]) => !path.endsWith(".part"))
      assert.isAbove(finals.length, 0)
      assert.isAbove(files.size - finals.length, 0, "some transfers were cut short, as .part files")
      for (const [, bytes] of finals) {
        assert.isTrue(
          server.catalog.album("11")!.trackIds.concat(server.catalog.album("12")!.trackIds).some((id) =>
            server.catalog.track(id)!.sizeBytes === bytes.length
          )
        )
      }
      const events = yield* recorded
      assert.deepStrictEqual(events.at(-1)?._tag, "JobFinished")
      assert.isTrue((events.at(-1) as { interrupted: boolean }).interrupted)
      // And nothing more happens afterwards.
      const before = (yield* server.requests).length
      yield* TestClock.adjust(Duration.minutes(1))
      assert.strictEqual((yield* server.requests).length, before)
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))
})
