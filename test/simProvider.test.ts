import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Option, Stream, TestClock } from "effect"
import { createHash } from "node:crypto"
import type { Track } from "../src/domain/Track.js"
import type { StreamBody } from "../src/domain/TrackSource.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { makeSim, parseUrl, registryLayer } from "../src/layers/sim/SimProvider.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import type { MusicApiError } from "../src/services/MusicApiError.js"
import type { Provider } from "../src/services/Provider.js"
import { ProviderRegistry } from "../src/services/ProviderRegistry.js"

/** The bytes of a stream body opened at `offset`, as one stream. */
const bytesAt = (body: StreamBody, offset: number) =>
  Stream.unwrapScoped(Effect.map(body.open(offset), (opened) => opened.bytes))

/** No sleeps at all: bytes and metadata tests run instantly. */
const instant = (overrides: Partial<SimProfile.SimProfile> = {}) =>
  SimProfile.exact({ latency: { _tag: "Fixed", millis: 0 }, bandwidth: Infinity, ...overrides })

const streamOf = (provider: Provider, track: Track) =>
  Effect.map(provider.source(track, "lossless"), (source) => {
    assert.strictEqual(source.body._tag, "StreamBody")
    return { source, body: source.body as StreamBody }
  })

const collect = (stream: Stream.Stream<Uint8Array, unknown>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => Buffer.concat([...chunks]))

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const trackOf = (provider: Provider, id: string) => Effect.orDie(provider.track(id))

describe("SimProvider", () => {
  it("parses its URLs", () => {
    assert.strictEqual(parseUrl("https://sim.lyra/album/11")?.toString(), "sim:album:11")
    assert.strictEqual(parseUrl("https://sim.lyra/track/1101/?utm=x")?.toString(), "sim:track:1101")
    assert.strictEqual(parseUrl("sim://artist/1")?.toString(), "sim:artist:1")
    assert.strictEqual(parseUrl("  http://sim.lyra/playlist/3 ")?.toString(), "sim:playlist:3")
    for (const url of ["https://sim.lyra/song/1", "https://other.lyra/album/1", "https://sim.lyra/album/x", "sim:album:1"]) {
      assert.isUndefined(parseUrl(url), url)
    }
  })

  it.effect("answers metadata after one latency; albums list track ids only", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(SimProfile.exact())
      const fiber = yield* Effect.fork(provider.album("11"))
      yield* TestClock.adjust("39 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const album = yield* Fiber.join(fiber)
      assert.strictEqual(album.trackIds.length, 10)
      assert.isUndefined(album.tracks)
      assert.deepStrictEqual(yield* server.requests, [
        { at: 0, endpoint: "album", id: "11", status: 200, doneAt: 40 }
      ])
      const artist = yield* Effect.fork(provider.artist("1"))
      yield* TestClock.adjust("40 millis")
      assert.deepStrictEqual((yield* Fiber.join(artist)).albumIds, ["11", "12", "13", "14"])
    }))

  it.effect("batches tracks: one latency plus a cost per id, missing ids absent", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(SimProfile.exact())
      const album = yield* Effect.fork(provider.album("12"))
      yield* TestClock.adjust("40 millis")
      const ids = [...(yield* Fiber.join(album)).trackIds, "1299", "99999"]
      const fiber = yield* Effect.fork(provider.tracks!(ids))
      yield* TestClock.adjust("51 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const tracks = yield* Fiber.join(fiber)
      assert.deepStrictEqual(tracks.map((track) => track.id), ids.slice(0, 10))
      const requests = yield* server.requests
      assert.strictEqual(requests.length, 2)
      assert.deepStrictEqual(requests[1], { at: 40, endpoint: "tracks", id: ids.join(","), status: 200, doneAt: 92 })
    }))

  it.effect("fails NotFound for unknown ids and for failing sources", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(instant({ failTracks: ["1102"] }))
      const missing: ReadonlyArray<Effect.Effect<unknown, MusicApiError>> = [
        provider.track("1111"),
        provider.album("15"),
        provider.artist("51"),
        provider.playlist("21"),
        provider.track("abc")
      ]
      for (const call of missing) {
        const error = yield* Effect.flip(call)
        assert.strictEqual(error._tag, "NotFoundError")
      }
      const track = yield* trackOf(provider, "1102")
      const error = yield* Effect.flip(provider.source(track, "lossless"))
      assert.strictEqual(error._tag, "NotFoundError")
      assert.strictEqual(error.message, "sim: source of track 1102 not found")
      assert.strictEqual((yield* server.stats).notFound, 6)
      assert.isTrue((yield* server.requests).filter((r) => r.status === 404).length === 6)
    }))

  it.effect("searches by name", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(instant())
      const name = server.catalog.artist("1")!.name
      const hits = yield* provider.search("artist", name.toLowerCase(), 5)
      assert.isTrue(hits.some((hit) => hit.id === "1" && hit.kind === "artist" && hit.provider === "sim"))
      assert.strictEqual((yield* provider.search("track", "the", 7)).length, 7)
      assert.strictEqual((yield* Effect.flip(provider.search("album", "  ", 5)))._tag, "InvalidError")
    }))

  it.effect("streams deterministic FLAC bytes that match size and sha256", () =>
    Effect.gen(function*() {
      const { provider } = yield* makeSim(instant())
      const track = yield* trackOf(provider, "1101")
      const { body, source } = yield* streamOf(provider, track)
      const bytes = yield* collect(bytesAt(body, 0))
      assert.strictEqual(source.container, "flac")
      assert.strictEqual(bytes.length, track.sizeBytes)
      assert.strictEqual(source.sizeBytes, track.sizeBytes)
      assert.strictEqual(sha256(bytes), source.sha256)
      assert.strictEqual(bytes.subarray(0, 4).toString("latin1"), "fLaC")

      const size = bytes.length
      for (const offset of [1, 15, 16, 17, 41, 42, 65_535, 65_536, 100_003, size - 1, size]) {
        const tail = yield* collect(bytesAt(body, offset))
        assert.isTrue(tail.equals(bytes.subarray(offset)), `offset ${offset}`)
      }
      assert.strictEqual((yield* Effect.flip(Stream.runDrain(bytesAt(body, size + 1))))._tag, "InvalidError")

      // Same seed, same bytes; another seed or another track, other bytes.
      const again = yield* makeSim(instant())
      const other = yield* makeSim(instant({ seed: 2 }))
      assert.strictEqual((yield* streamOf(again.provider, track)).source.sha256, source.sha256)
      const otherTrack = yield* trackOf(other.provider, "1101")
      assert.notStrictEqual((yield* streamOf(other.provider, otherTrack)).source.sha256, source.sha256)
      const next = yield* trackOf(provider, "1102")
      assert.notStrictEqual((yield* streamOf(provider, next)).source.sha256, source.sha256)
    }))

  it.effect("maps quality tiers: the FLAC master for hifi and lossless, MP3 frames at 320, 192, 128 and 96 kbps", () =>
    Effect.gen(function*() {
      const { provider } = yield* makeSim(instant())
      const track = yield* trackOf(provider, "1101")
      const master = yield* provider.source(track, "hifi")
      assert.strictEqual(master.container, "flac")
      assert.strictEqual((yield* provider.source(track, "lossless")).sha256, master.sha256)
      // MPEG-1 Layer III header byte 3: bit rate index 14, 11 and 9, at 44.1 kHz.
      for (const [quality, kbps, index] of [["high", 320, 14], ["medium", 192, 11], ["low", 128, 9], ["minimum", 96, 7]] as const) {
        const source = yield* provider.source(track, quality)
        const bytes = yield* collect(bytesAt(source.body as StreamBody, 0))
        const frameBytes = Math.floor(144_000 * kbps / 44_100)
        assert.strictEqual(source.container, "mp3", quality)
        assert.strictEqual(bytes.length, source.sizeBytes)
        assert.strictEqual(sha256(bytes), source.sha256)
        assert.strictEqual(bytes.length % frameBytes, 0, `${quality}: whole frames`)
        assert.isBelow(bytes.length, track.sizeBytes! * kbps / 700, `${quality}: smaller than the master by its bit rate`)
        for (let at = 0; at < bytes.length; at += frameBytes) {
          assert.deepStrictEqual([...bytes.subarray(at, at + 4)], [0xff, 0xfb, index << 4, 0x04], `${quality}: frame at ${at}`)
        }
        // A resumed transfer adds up to the same file.
        const from = frameBytes * 3 + 17
        assert.isTrue((yield* collect(bytesAt(source.body as StreamBody, from))).equals(bytes.subarray(from)))
      }
    }))

  it.effect("paces a 1 MB transfer at 4 MB/s: 250 ms plus one latency to the first byte", () =>
    Effect.gen(function*() {
      const shape = { ...SimProfile.defaultProfile.shape, trackSeconds: { min: 250, max: 250 }, audioBytesPerSecond: 4_000 }
      const { provider, server } = yield* makeSim(SimProfile.exact({ shape }))
      const fiber = yield* Effect.fork(Effect.flatMap(provider.track("1101"), (track) => streamOf(provider, track)))
      yield* TestClock.adjust("80 millis")
      const { body } = yield* Fiber.join(fiber)
      const transfer = yield* Effect.fork(collect(bytesAt(body, 0)))
      yield* TestClock.adjust("289 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(transfer)))
      assert.strictEqual((yield* server.stats).transfers, 1)
      yield* TestClock.adjust("1 millis")
      const bytes = yield* Fiber.join(transfer)
      assert.strictEqual(bytes.length, 1_000_000)
      const stream = (yield* server.requests).find((r) => r.endpoint === "stream")!
      assert.deepStrictEqual(stream, { at: 80, endpoint: "stream", id: "1101", status: 200, doneAt: 370, offset: 0, bytes: 1_000_000 })
      assert.strictEqual((yield* server.bytesServed).get("1101"), 1_000_000)
      const stats = yield* server.stats
      assert.strictEqual(stats.transfers, 0)
      assert.strictEqual(stats.maxTransfers, 1)
      assert.strictEqual(stats.bytesServed, 1_000_000)
    }))

  it.effect("answers 429 with a whole-second Retry-After once the bucket is empty", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(SimProfile.exact({ rate: 5, burst: 2 }))
      const calls = yield* Effect.fork(
        Effect.all([provider.track("1101"), provider.track("1102"), provider.track("1103")], {
          concurrency: "unbounded",
          mode: "either"
        })
      )
      yield* TestClock.adjust("40 millis")
      const [first, second, third] = yield* Fiber.join(calls)
      assert.isTrue(Either.isRight(first!) && Either.isRight(second!))
      assert.isTrue(Either.isLeft(third!))
      if (Either.isLeft(third!)) {
        const error = third.left
        assert.strictEqual(error._tag, "RateLimitedError")
        if (error._tag === "RateLimitedError") {
          assert.strictEqual(error.status, 429)
          assert.strictEqual(error.retryAfterMillis, 1000)
        }
      }
      assert.strictEqual((yield* server.stats).rateLimited, 1)
      // 200 ms refill one token at 5/s.
      yield* TestClock.adjust("160 millis")
      const later = yield* Effect.fork(provider.track("1103"))
      yield* TestClock.adjust("40 millis")
      assert.strictEqual((yield* Fiber.join(later)).id, "1103")

      // A slow limit rounds up to whole seconds; without Retry-After there is none.
      const slow = yield* makeSim(SimProfile.exact({ rate: 0.25, burst: 1, latency: { _tag: "Fixed", millis: 0 } }))
      yield* slow.provider.track("1101")
      const slowError = yield* Effect.flip(slow.provider.track("1101"))
      assert.strictEqual(slowError._tag === "RateLimitedError" ? slowError.retryAfterMillis : -1, 4000)
      const bare = yield* makeSim(SimProfile.exact({ rate: 1, burst: 1, retryAfter: false, latency: { _tag: "Fixed", millis: 0 } }))
      yield* bare.provider.track("1101")
      const bareError = yield* Effect.flip(bare.provider.track("1101"))
      assert.strictEqual(bareError._tag, "RateLimitedError")
      assert.isUndefined(bareError._tag === "RateLimitedError" ? bareError.retryAfterMillis : 0)

      // Opening a transfer is a request too, and takes its token from the same bucket.
      const streams = yield* makeSim(SimProfile.exact({ rate: 1, burst: 2, latency: { _tag: "Fixed", millis: 0 }, bandwidth: Infinity }))
      const track = yield* streams.provider.track("1101")
      const { body } = yield* streamOf(streams.provider, track)
      const streamError = yield* Effect.flip(Stream.runDrain(bytesAt(body, 0)))
      assert.strictEqual(streamError._tag, "RateLimitedError")
      assert.deepStrictEqual(
        (yield* streams.server.requests).map((r) => `${r.endpoint} ${r.status}`),
        ["track 200", "source 200", "stream 429"]
      )
    }))

  it.effect("refuses connections over the cap with a 503 and counts what is in flight", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(SimProfile.exact({ connections: 3 }))
      const ids = ["1101", "1102", "1103", "1104"]
      const calls = yield* Effect.fork(Effect.all(ids.map((id) => provider.track(id)), { concurrency: "unbounded", mode: "either" }))
      yield* TestClock.adjust("40 millis")
      const results = yield* Fiber.join(calls)
      assert.strictEqual(results.filter(Either.isRight).length, 3)
      const refused = results.find(Either.isLeft)!
      assert.isTrue(Either.isLeft(refused) && refused.left._tag === "TransientError")
      if (Either.isLeft(refused)) assert.strictEqual(refused.left.message, "sim: HTTP 503 (too many connections)")
      const stats = yield* server.stats
      assert.strictEqual(stats.maxApiInFlight, 3)
      assert.strictEqual(stats.maxConnections, 3)
      assert.strictEqual(stats.faults, 1)
      assert.strictEqual(stats.apiInFlight, 0)
    }))

  it.effect("draws latencies from the profile's distribution", () =>
    Effect.gen(function*() {
      const durations = (latency: SimProfile.Latency) =>
        Effect.gen(function*() {
          const { provider, server } = yield* makeSim(SimProfile.exact({ latency }))
          // 101 different requests (an id the catalog lacks is a 404, after the same round trip): one
          // request asked again would draw the same latency.
          const ids = Array.from({ length: 101 }, (_, i) => String(1101 + i))
          const fiber = yield* Effect.fork(
            Effect.forEach(ids, (id) => Effect.either(provider.track(id)), { concurrency: "unbounded" })
          )
          yield* TestClock.adjust("1 second")
          yield* Fiber.join(fiber)
          return (yield* server.requests).map((r) => r.doneAt! - r.at).sort((a, b) => a - b)
        })
      const uniform = yield* durations({ _tag: "Uniform", min: 20, max: 80 })
      assert.isTrue(uniform[0]! >= 20 && uniform[100]! <= 80)
      assert.isTrue(uniform[100]! - uniform[0]! > 40)
      const logNormal = yield* durations(SimProfile.defaultProfile.latency)
      assert.isTrue(logNormal[0]! > 0)
      assert.isTrue(logNormal[50]! >= 33 && logNormal[50]! <= 48, `median ${logNormal[50]}`)
    }))

  it.effect("a request meets the same latency and faults whatever else is in flight, and in any order", () =>
    Effect.gen(function*() {
      const ids = ["1101", "1102", "1103", "1104", "1105", "1106", "1107", "1108"]
      const profile = SimProfile.make({ rate: Infinity, errorRate: 0.3 })
      const outcomes = (asked: ReadonlyArray<string>, concurrency: number | "unbounded") =>
        Effect.gen(function*() {
          const { provider, server } = yield* makeSim(profile)
          const fiber = yield* Effect.fork(
            Effect.forEach(asked, (id) => Effect.either(provider.track(id)), { concurrency })
          )
          yield* TestClock.adjust("10 seconds")
          yield* Fiber.join(fiber)
          const requests = yield* server.requests
          return new Map(requests.map((r) => [r.id, `${r.status} after ${r.doneAt! - r.at} ms`]))
        })
      const alone = yield* outcomes(ids, 1)
      // Backwards, all at once, among requests for other tracks.
      const crowded = yield* outcomes([...ids].reverse().flatMap((id) => [id, `12${id.slice(2)}`]), "unbounded")
      assert.deepStrictEqual(ids.map((id) => crowded.get(id)), ids.map((id) => alone.get(id)))
      assert.isTrue(new Set(alone.values()).size > 1, "the draws differ between requests")
    }))

  it.effect("fails transiently at the error rate, the same way for the same seed", () =>
    Effect.gen(function*() {
      const outcomes = (seed: number) =>
        Effect.gen(function*() {
          const { provider } = yield* makeSim(instant({ seed, errorRate: 0.3 }))
          return yield* Effect.forEach(Array.from({ length: 60 }, (_, i) => String(1101 + (i % 10))), (id) =>
            provider.track(id).pipe(Effect.match({ onFailure: (e) => e.message, onSuccess: () => "ok" })))
        })
      const first = yield* outcomes(1)
      assert.deepStrictEqual(yield* outcomes(1), first)
      assert.notDeepEqual(yield* outcomes(2), first)
      const failures = first.filter((outcome) => outcome !== "ok")
      assert.isTrue(failures.length > 5 && failures.length < 35, `${failures.length} failures`)
      assert.isTrue(failures.every((f) => f === "sim: HTTP 503" || f === "sim: connection reset"))
      const { provider } = yield* makeSim(instant({ errorRate: 1 }))
      assert.strictEqual((yield* Effect.flip(provider.artist("1")))._tag, "TransientError")
    }))

  it.effect("breaks transfers part-way, and a resumed download still adds up", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* makeSim(instant({ errorRate: 0.4 }))
      let resets = 0
      // Whether a transfer breaks is drawn per request: of an album's tracks, some break.
      for (const id of ["1301", "1302", "1303", "1304", "1305"]) {
        const track = yield* provider.track(id).pipe(Effect.retry({ times: 20 }), Effect.orDie)
        const parts: Array<Uint8Array> = []
        let received = 0
        let expected: string | undefined
        for (let attempt = 0; received < track.sizeBytes! && attempt < 100; attempt++) {
          const opened = yield* Effect.either(streamOf(provider, track))
          if (Either.isLeft(opened)) continue
          expected = opened.right.source.sha256
          const result = yield* bytesAt(opened.right.body, received).pipe(
            Stream.runForEach((chunk) => Effect.sync(() => { parts.push(chunk); received += chunk.length })),
            Effect.exit
          )
          if (Exit.isFailure(result) && String(result.cause).includes("connection reset after")) resets++
        }
        assert.strictEqual(received, track.sizeBytes)
        assert.strictEqual(sha256(Buffer.concat(parts)), expected)
      }
      assert.isTrue(resets > 0, "some transfer broke part-way")
      const ranged = (yield* server.requests).filter((r) => r.endpoint === "stream" && r.status === 206)
      assert.isTrue(ranged.length > 0 && ranged.every((r) => r.offset! > 0))
    }))

  it.effect("serves a corrupt track with one flipped byte, once", () =>
    Effect.gen(function*() {
      const { provider } = yield* makeSim(instant({ corruptTracks: ["1101"] }))
      const track = yield* trackOf(provider, "1101")
      const { body, source } = yield* streamOf(provider, track)
      const first = yield* collect(bytesAt(body, 0))
      const second = yield* collect(bytesAt(body, 0))
      assert.notStrictEqual(sha256(first), source.sha256)
      assert.strictEqual(sha256(second), source.sha256)
      let differing = 0
      for (let i = 0; i < first.length; i++) if (first[i] !== second[i]) differing++
      assert.strictEqual(differing, 1)
    }))

  it.effect("provides a registry with just sim, and the SimServer behind it", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const server = yield* SimServer
      assert.deepStrictEqual([...registry.keys()], ["sim"])
      assert.strictEqual(registry.get("sim"), server.provider)
      assert.deepStrictEqual(server.provider.capabilities.kinds, ["track", "album", "artist", "playlist"])
      assert.isTrue(server.provider.capabilities.batchTracks)
      yield* server.provider.playlist("1")
      assert.strictEqual((yield* server.stats).requests, 1)
    }).pipe(Effect.provide(registryLayer(instant()))))
})
