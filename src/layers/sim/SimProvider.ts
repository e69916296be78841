import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Album } from "../../domain/Album.js"
import type { MediaKind } from "../../domain/MediaRef.js"
import { CoverSource, Lyrics } from "../../domain/Artwork.js"
import { MediaRef } from "../../domain/MediaRef.js"
import type { Quality } from "../../domain/Quality.js"
import { lossyKbps } from "../../domain/Quality.js"
import type { Track } from "../../domain/Track.js"
import { TrackSource } from "../../domain/TrackSource.js"
import type { UsageError } from "../../domain/UsageError.js"
import { InvalidError, type MusicApiError, NotFoundError } from "../../services/MusicApiError.js"
import type { Provider, ProviderCapabilities } from "../../services/Provider.js"
import { ProviderRegistry } from "../../services/ProviderRegistry.js"
import { albumCover, trackLyrics } from "./SimArt.js"
import { SimBackend } from "./SimBackend.js"
import { SimCatalog } from "./SimCatalog.js"
import type { SimContent } from "./SimContent.js"
import { makeContent, sha256Hex, SimContentReader } from "./SimContent.js"
import { hash32 } from "./SimHash.js"
import type { SimProfile } from "./SimProfile.js"
import { defaultProfile, load } from "./SimProfile.js"
import type { SimServerHandle } from "./SimServer.js"
import { SimServer } from "./SimServer.js"

const name = "sim"

export const capabilities: ProviderCapabilities = {
  kinds: ["track", "album", "artist", "playlist"],
  search: true,
  batchTracks: true,
  cover: true,
  lyrics: true,
  urlForms: ["https://sim.lyra/<kind>/<id>", "sim://<kind>/<id>"]
}

const urlPattern = /^(?:https?:\/\/(?:www\.)?sim\.lyra|sim:\/)\/(track|album|artist|playlist)\/(\d+)\/?(?:[?#].*)?$/i

/** `https://sim.lyra/<kind>/<id>` or `sim://<kind>/<id>`. */
export const parseUrl = (url: string): MediaRef | undefined => {
  const match = urlPattern.exec(url.trim())
  if (match === null) return undefined
  return new MediaRef({ provider: name, kind: (match[1] ?? "").toLowerCase() as MediaKind, id: match[2] ?? "" })
}

/**
 * Builds the simulated service: a catalog from the profile's seed, a server whose
 * faults and latencies are a function of the seed and each request (SimBackend),
 * and the Provider that calls it. Time is the Clock's, so the same code runs live
 * or under TestClock.
 */
export const makeSim = Effect.fnUntraced(function*(profile: SimProfile = defaultProfile) {
  const catalog = new SimCatalog(profile.seed, profile.shape)
  const backend = new SimBackend(profile)
  const failing = new Set(profile.failTracks)
  const corrupt = new Set(profile.corruptTracks)
  const contents = new Map<string, { readonly content: SimContent; readonly sha256: string | undefined }>()
  const virtual = profile.payload === "virtual"
  /** A virtual payload's bytes: views of one buffer of zeros, never written to. */
  const zeros = virtual ? new Uint8Array(Math.min(profile.chunkBytes, 16 * 1024 * 1024)) : new Uint8Array(0)
  const zeroBytes = (n: number) => n <= zeros.length ? zeros.subarray(0, n) : new Uint8Array(n)

  /**
   * The canonical bytes of a track (by id, whatever metadata the caller holds), hashed once (never, if
   * virtual): its FLAC master, or with `mp3Kbps` an MP3 rendition, smaller as its bit rate is to the master's.
   */
  const contentOf = (trackId: string, mp3Kbps?: number) => {
    const key = mp3Kbps === undefined ? trackId : `${trackId}@${mp3Kbps}`
    const cached = contents.get(key)
    if (cached !== undefined) return cached
    const track = catalog.track(trackId)
    if (track === undefined) return undefined
    const sampleRate = track.sampleRate ?? 44_100
    const bitDepth = track.bitDepth ?? 16
    // FLAC keeps about 60% of the PCM bit rate.
    const masterKbps = sampleRate * bitDepth * 2 * 0.6 / 1000
    const size = track.sizeBytes ?? 0
    const content = makeContent({
      seed: profile.seed,
      trackId,
      size: mp3Kbps === undefined ? size : Math.round(size * mp3Kbps / masterKbps),
      sampleRate,
      bitDepth,
      durationSeconds: track.durationSeconds ?? 0,
      mp3Kbps
    })
    const entry = { content, sha256: virtual ? undefined : sha256Hex(content) }
    contents.set(key, entry)
    return entry
  }

  /** A transfer from `offset`: chunks of `chunkBytes`, each paced by the per-connection bandwidth. */
  const open = (trackId: string, content: SimContent) => (offset: number): Stream.Stream<Uint8Array, MusicApiError> =>
    Stream.unwrapScoped(Effect.gen(function*() {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > content.size) {
        return yield* new InvalidError({
          provider: name,
          reason: `range: offset ${offset} of track ${trackId} (${content.size} bytes)`
        })
      }
      const { breakAt, entry } = yield* backend.openTransfer(trackId, offset, content.size)
      // Virtual bytes have no checksum to fail: a corrupt track's first whole transfer ends a byte short instead.
      const short = virtual && breakAt === undefined && content.size > offset && corrupt.delete(trackId)
      const end = breakAt ?? (short ? content.size - 1 : content.size)
      // One flipped byte, served once: the first transfer that reaches it.
      const flipAt = !virtual && corrupt.has(trackId) && content.size > offset
        ? offset + (hash32(profile.seed, "flip", trackId) % (content.size - offset))
        : undefined
      const reader = virtual ? undefined : new SimContentReader(content, offset)
      const pace = backend.pace(offset)
      const body = Stream.unfoldEffect(offset, (position) => {
        if (position >= end) return Effect.succeed(Option.none())
        const next = Math.min(position + profile.chunkBytes, end)
        const chunk = Effect.sync(() => {
          const bytes = reader === undefined ? zeroBytes(next - position) : reader.read(next - position)
          if (flipAt !== undefined && flipAt >= position && flipAt < next && corrupt.delete(trackId)) {
            bytes[flipAt - position] = (bytes[flipAt - position] ?? 0) ^ 0xff
          }
          backend.sent(entry, trackId, bytes.length)
          return Option.some([bytes, next] as const)
        })
        return Effect.zipRight(pace(position, next), chunk)
      })
      return breakAt === undefined
        ? body
        : Stream.concat(body, Stream.suspend(() => Stream.fail(backend.broke(entry))))
    }))

  // Subsonic's shape: albums list their tracks, sources need no call, no lyrics.
  const subsonic = profile.apiStyle === "subsonic"
  const withTracks = (album: Album | undefined) =>
    album === undefined || !subsonic
      ? album
      : new Album({ ...album, tracks: album.trackIds.flatMap((id) => catalog.track(id) ?? []) })

  const provider: Provider = {
    name,
    description: "Simulated music service: a seeded catalog with latency, rate limits and faults, no network",
    capabilities: subsonic ? { ...capabilities, lyrics: false } : capabilities,
    ...(subsonic ? { localSource: true } : {}),
    parseUrl,
    track: Effect.fn("SimProvider.track")(function*(id: string) {
      return yield* backend.call("track", id, 0, `track ${id}`, () => catalog.track(id))
    }),
    tracks: Effect.fn("SimProvider.tracks")(function*(ids: ReadonlyArray<string>) {
      const found = (): ReadonlyArray<Track> => ids.flatMap((id) => catalog.track(id) ?? [])
      return yield* backend.call("tracks", ids.join(","), ids.length * profile.perItemMillis, "tracks", found)
    }),
    album: Effect.fn("SimProvider.album")(function*(id: string) {
      return yield* backend.call("album", id, 0, `album ${id}`, () => withTracks(catalog.album(id)))
    }),
    artist: Effect.fn("SimProvider.artist")(function*(id: string) {
      return yield* backend.call("artist", id, 0, `artist ${id}`, () => catalog.artist(id))
    }),
    playlist: Effect.fn("SimProvider.playlist")(function*(id: string) {
      return yield* backend.call("playlist", id, 0, `playlist ${id}`, () => catalog.playlist(id))
    }),
    search: Effect.fn("SimProvider.search")(function*(kind: MediaKind, query: string, limit: number) {
      if (query.trim().length === 0 || !(limit >= 1)) {
        return yield* new InvalidError({ provider: name, reason: "search: an empty query or a limit below 1" })
      }
      return yield* backend.call("search", `${kind}:${query}`, 0, "search", () => catalog.search(kind, query, limit))
    }),
    // hifi and lossless: the FLAC master (the sim has no other lossless one); a lossy tier: an MP3 at its bit rate.
    source: Effect.fn("SimProvider.source")(function*(track: Track, quality: Quality) {
      const id = track.id
      const mp3Kbps = lossyKbps(quality)
      const answer = () => failing.has(id) ? undefined : contentOf(id, mp3Kbps)
      const local = subsonic ? answer() : undefined
      if (subsonic && local === undefined) return yield* new NotFoundError({ provider: name, what: `source of track ${id}` })
      const found = local ?? (yield* backend.call("source", id, 0, `source of track ${id}`, answer))
      return new TrackSource({
        body: { _tag: "StreamBody", open: (offset) => Effect.succeed({ offset, bytes: open(id, found.content)(offset) }) },
        container: mp3Kbps === undefined ? "flac" : "mp3",
        sizeBytes: found.content.size,
        ...(found.sha256 === undefined ? {} : { sha256: found.sha256 })
      })
    }),
    // A cover of the size asked for, served whole from the cover call's answer.
    cover: Effect.fn("SimProvider.cover")(function*(track: Track, resolution: number) {
      const albumId = track.albumId ?? ""
      const bytes = yield* backend.call(
        "cover",
        albumId,
        0,
        `cover of album ${albumId}`,
        () => catalog.album(albumId) === undefined ? undefined : albumCover(profile.seed, albumId, resolution)
      )
      return new CoverSource({
        body: {
          _tag: "StreamBody",
          open: (offset) => Effect.succeed({ offset, bytes: Stream.make(bytes.subarray(Math.min(offset, bytes.length))) })
        },
        mimeType: "image/jpeg"
      })
    }),
    ...(subsonic ? {} : {
      lyrics: Effect.fn("SimProvider.lyrics")(function*(track: Track) {
        const found = yield* backend.call("lyrics", track.id, 0, `lyrics of track ${track.id}`, () => catalog.track(track.id))
        return trackLyrics(profile.seed, found.id, found.durationSeconds ?? 0) ?? new Lyrics({})
      })
    })
  }

  const server: SimServerHandle = {
    provider,
    profile,
    catalog,
    requests: backend.requests,
    stats: backend.stats,
    bytesServed: backend.bytesServed
  }
  return { provider, server }
})

/** The SimServer for a profile. */
export const layer = (profile: SimProfile = defaultProfile): Layer.Layer<SimServer> =>
  Layer.effect(SimServer, Effect.map(makeSim(profile), ({ server }) => server))

/** A registry holding just `sim`, and the SimServer behind it. */
export const registryLayer = (profile: SimProfile = defaultProfile): Layer.Layer<ProviderRegistry | SimServer> =>
  Layer.effect(ProviderRegistry, Effect.map(SimServer, (server) => new Map([[name, server.provider]]))).pipe(
    Layer.provideMerge(layer(profile))
  )

/** As `registryLayer`, with the profile read from LYRA_SIM_* and then `--sim key=value` entries. */
export const registryLayerConfig = (
  entries: ReadonlyArray<string> = []
): Layer.Layer<ProviderRegistry | SimServer, UsageError> =>
  Layer.unwrapEffect(Effect.map(load(entries), registryLayer))
