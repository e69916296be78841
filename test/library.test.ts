import * as NodePath from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer, Option, Stream } from "effect"
import { Album } from "../src/domain/Album.js"
import { Artist } from "../src/domain/Artist.js"
import { CoverSource, imageMimeType } from "../src/domain/Artwork.js"
import { albumSkipReason } from "../src/domain/ArtistFilters.js"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { JobSettings } from "../src/domain/JobSettings.js"
import { NameClaims } from "../src/domain/NameClaims.js"
import { Playlist } from "../src/domain/Playlist.js"
import { isInside, normalizeRelative, planPath } from "../src/domain/SafePath.js"
import type { Settings } from "../src/domain/Settings.js"
import { defaultSettings } from "../src/domain/Settings.js"
import { Track } from "../src/domain/Track.js"
import { TrackSource } from "../src/domain/TrackSource.js"
import * as EngineLayer from "../src/layers/EngineLayer.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import * as ProgressRecorder from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import { StorageMemory } from "../src/layers/StorageMemory.js"
import * as StorageMemoryLayer from "../src/layers/StorageMemory.js"
import * as TaggerMemory from "../src/layers/TaggerMemory.js"
import { download } from "../src/programs/download.js"
import { albumLayout, playlistLayout, singleLayout } from "../src/programs/libraryLayout.js"
import { NotFoundError } from "../src/services/MusicApiError.js"
import type { Provider } from "../src/services/Provider.js"
import { ProviderRegistry } from "../src/services/ProviderRegistry.js"
import { runVirtual, testEngine } from "./support/testEngine.js"

const jobSettings = (library: Partial<Settings> = {}, overrides: Partial<JobSettings> = {}): JobSettings => ({
  ...defaultJobSettings,
  library: { ...defaultSettings, ...library },
  ...overrides
})

const bytes = (text: string) => Buffer.byteLength(text, "utf8")

// -- hostile metadata ----------------------------------------------------------------------------

const hostileTitles = [
  "../../../etc/passwd",
  "/absolute/path",
  "C:\\Windows\\System32",
  "CON",
  "nul.txt",
  "COM1",
  "t".repeat(1000),
  "🎸".repeat(300),
  "\u202Egnp.exe",
  "a\u0000b\u0007c",
  "Trailing dots...",
  "  spaces  ",
  ".",
  "..",
  "Same Name",
  "same name",
  "Same Name"
]

/** A provider whose every name is hostile: one album of the tracks above, by an artist called "..". */
const hostileProvider = (): Provider => {
  const tracks = hostileTitles.map((title, i) =>
    new Track({
      provider: "evil",
      id: String(i + 1),
      title,
      artists: ["..", "\u200Fמלך\u200E"],
      album: "../../up",
      albumId: "1",
      albumArtist: "..",
      trackNumber: i + 1,
      totalTracks: hostileTitles.length,
      explicit: i % 2 === 0 && i < 12,
      sizeBytes: 4
    })
  )
  const album = new Album({
    provider: "evil",
    id: "1",
    title: "../../up",
    artist: "..",
    trackIds: tracks.map((t) => t.id),
    tracks
  })
  return {
    name: "evil",
    description: "hostile metadata",
    capabilities: { kinds: ["album"], search: false, batchTracks: false, cover: false, lyrics: false, urlForms: [] },
    parseUrl: () => undefined,
    track: (id) => Effect.fromNullable(tracks.find((t) => t.id === id)).pipe(
      Effect.mapError(() => new NotFoundError({ provider: "evil", what: `track ${id}` }))
    ),
    album: () => Effect.succeed(album),
    artist: (id) => Effect.succeed(new Artist({ provider: "evil", id, name: "..", albumIds: ["1"] })),
    playlist: (id) => Effect.succeed(new Playlist({ provider: "evil", id, name: "..", trackIds: [] })),
    search: () => Effect.succeed([]),
    source: () =>
      Effect.succeed(
        new TrackSource({
          body: {
            _tag: "StreamBody",
            open: (offset) => Effect.succeed({ offset, bytes: Stream.make(new Uint8Array([1, 2, 3, 4]).subarray(offset)) })
          },
          container: "flac",
          sizeBytes: 4
        })
      )
  }
}

const engineOf = (name: string, provider: Provider) => {
  const storage = StorageMemoryLayer.layer()
  return EngineLayer.make({
    providers: Layer.succeed(ProviderRegistry, new Map([[name, provider]])),
    storage,
    progress: ProgressRecorder.layer,
    transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici))
  }).pipe(Layer.merge(storage), Layer.provideMerge(ProgressRecorder.layer))
}

describe("paths that cannot escape", () => {
  it.effect("hostile metadata ends in safe, readable, distinct names", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(
        download(["evil:album:1"], jobSettings({ albumFormat: "{artist}/{name}", trackFilenameFormat: "{name}{explicit}" }))
      )
      assert.strictEqual(report.failed, 0)
      const files = [...(yield* (yield* StorageMemory).files).keys()].filter((path) => !path.endsWith(".part"))
      assert.strictEqual(files.length, hostileTitles.length, "every track has its own file")
      for (const path of files) {
        assert.isTrue(isInside("/library", NodePath.posix.resolve("/library", path)), path)
        assert.deepStrictEqual(normalizeRelative(path), Option.some(path))
        for (const part of path.split("/")) {
          assert.isAtMost(bytes(part), 255, part)
          assert.notMatch(part, /[\u0000-\u001f\u202e\u200e\u200f/\\:*?"<>|]/, part)
          assert.notMatch(part, /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i, part)
          assert.notMatch(part, /[. ]$/, part)
          assert.strictEqual(part, part.normalize("NFC"))
        }
      }
      const names = files.map((path) => path.split("/").at(-1)!).sort()
      assert.includeMembers(names, [
        "_._.._.._etc_passwd [E].flac",
        "_absolute_path.flac",
        "C__Windows_System32 [E].flac",
        "_CON.flac",
        "_nul.txt [E].flac",
        "_COM1.flac",
        "gnp.exe [E].flac",
        "abc.flac",
        "Trailing dots... [E].flac",
        "spaces.flac",
        "_.flac",
        "Same Name.flac",
        "same name (2).flac",
        "Same Name (3).flac"
      ])
      // The folders: ".." as an artist, and a traversal as an album title, are plain names.
      assert.isTrue(files.every((path) => path.startsWith("_/_._.._up/")), files[0])
      const long = names.find((name) => name.startsWith("ttt"))!
      assert.strictEqual(bytes(long), 255 - 17 + ".flac".length)
      assert.isTrue(names.some((name) => name.startsWith("🎸") && !name.includes("\uFFFD")))
    }).pipe(Effect.provide(engineOf("evil", hostileProvider()))))

  it("keeps names NFC even when a dropped character stood between a letter and its mark", () => {
    const planned = planPath(["e\u0000\u0301", "Beyonce\u200E\u0301 CONIN$"], "flac")
    assert.strictEqual(planned, "\u00e9/Beyonc\u00e9 CONIN$.flac")
    assert.strictEqual(planPath(["CONIN$"], "txt"), "_CONIN$.txt")
  })

  it("gives two tracks that map to one name distinct names, the same ones every time", () => {
    const plan = () => {
      const claims = new NameClaims()
      return [
        claims.claim(["Album", "01. Intro"], "sim:track:1"),
        claims.claim(["Album", "01. intro"], "sim:track:2"),
        claims.claim(["Album", "01. Intro"], "sim:track:1"),
        claims.claim(["Album", "01. Intro (2)"], "sim:track:3"),
        claims.claim(["album", "01. INTRO"], "sim:track:4"),
        claims.claim(["Album", "x".repeat(1000)], "sim:track:5"),
        claims.claim(["Album", "x".repeat(1000)], "sim:track:6")
      ].map((segments) => segments.join("/"))
    }
    const first = plan()
    assert.deepStrictEqual(first.slice(0, 5), [
      "Album/01. Intro",
      "Album/01. intro (2)",
      "Album/01. Intro",
      "Album/01. Intro (2) (2)",
      "album/01. INTRO (3)"
    ])
    assert.notStrictEqual(first[5], first[6])
    assert.isTrue(first[6]!.endsWith(" (2)"), "the number survives the cut")
    assert.strictEqual(planPath((first[6] ?? "").split("/"), "flac").split("/")[1]!.length, 255 - 17 + 5)
    assert.deepStrictEqual(plan(), first)
  })

  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(".", "/", "\\", " ", "\0", ":", "\u202E", "\u0301", "🎵", "{", "}", "C", "O", "N"), maxLength: 30 }),
    fc.constantFrom("", ".", "..", "../..", "/", "C:\\", "con", "LPT1.txt", "{name}"),
    fc.string({ unit: "grapheme", minLength: 200, maxLength: 600 })
  )
  const metadata = fc.record({
    title: text,
    artist: text,
    album: text,
    albumArtist: text,
    playlist: text,
    isrc: text,
    explicit: fc.boolean(),
    discs: fc.integer({ min: 1, max: 3 }),
    count: fc.integer({ min: 1, max: 120 }),
    index: fc.integer({ min: 0, max: 119 }),
    forceAlbum: fc.boolean(),
    source: fc.boolean(),
    format: fc.constantFrom(
      "{name}{explicit}",
      "{artist}/{name}",
      "../{artist}/../{name}",
      "/{artist_initials}//{artist} - {name}{quality}"
    ),
    trackFormat: fc.constantFrom("{track_number}. {name}", "{disc_number}-{track_number} {artist} - {name}", "../../{isrc}/{name}")
  })

  it.prop("any metadata, in any layout, gives a path inside the library root", [metadata], ([m]) => {
    const settings: Settings = {
      ...defaultSettings,
      albumFormat: m.format,
      playlistFormat: m.format.replace("{quality}", "").replace("{artist_initials}", "{creator}").replace("{artist}", "{creator}"),
      trackFilenameFormat: m.trackFormat,
      singleFullPathFormat: m.trackFormat,
      forceAlbumFormat: m.forceAlbum,
      sourceSubdirectories: m.source
    }
    const track = new Track({
      provider: "sim",
      id: "1",
      title: m.title,
      artists: [m.artist],
      album: m.album,
      albumArtist: m.albumArtist,
      isrc: m.isrc,
      explicit: m.explicit,
      discNumber: m.discs,
      totalDiscs: m.discs
    })
    const album = new Album({ provider: "sim", id: "1", title: m.album, artist: m.albumArtist, trackIds: Array.from({ length: m.count }, String) })
    const playlist = new Playlist({ provider: "sim", id: "1", name: m.playlist, trackIds: [] })
    const index = Math.min(m.index, m.count - 1)
    const claims = new NameClaims()
    for (
      const plan of [
        albumLayout(settings, album, [track], { artist: m.artist })(track, index),
        playlistLayout(settings, playlist, m.count)(track, index),
        singleLayout(settings, track)
      ]
    ) {
      const path = planPath(claims.claim(plan.segments, "x"), "flac")
      assert.isTrue(isInside("/library", NodePath.posix.resolve("/library", path)), path)
      assert.deepStrictEqual(normalizeRelative(path), Option.some(path))
      for (const part of path.split("/")) {
        assert.isAtMost(bytes(part), 255)
        assert.notInclude(["", ".", ".."], part)
      }
    }
  }, { fastCheck: { numRuns: 500 } })
})

// -- covers, lyrics and tags through the engine ------------------------------------------------------

const withTagger = (engine: ReturnType<typeof testEngine>) => Layer.merge(engine, TaggerMemory.layer())

const simEngine = () => withTagger(testEngine({ profile: SimProfile.exact({ bandwidth: Infinity }) }))

/** A JPEG's width and height, from its SOF0 segment (the sim's covers are baseline). */
const jpegSize = (jpeg: Uint8Array | undefined): readonly [number, number] | undefined => {
  if (jpeg === undefined) return undefined
  for (let i = 2; i + 8 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) return [(jpeg[i + 7]! << 8) | jpeg[i + 8]!, (jpeg[i + 5]! << 8) | jpeg[i + 6]!]
  }
  return undefined
}

const coverRequests = Effect.map(Effect.flatMap(SimServer, (server) => server.requests), (requests) =>
  requests.filter((r) => r.endpoint === "cover").map((r) => r.id))

const coverFiles = Effect.map(Effect.flatMap(StorageMemory, (storage) => storage.files), (files) =>
  new Map([...files].filter(([path]) => path.endsWith("/cover.jpg"))))

describe("covers and lyrics", () => {
  it.effect("a concurrent album fetches its cover exactly once, and every track embeds it", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(
        ["sim:album:11"],
        jobSettings({ saveExternal: true, mainResolution: 1000, externalResolution: 1000 }, { tracks: 10, tracksPerAlbum: 10 })
      ))
      assert.strictEqual(report.done, 10)
      assert.deepStrictEqual(yield* coverRequests, ["11"])
      const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
      assert.strictEqual(writes.length, 10)
      const cover = writes[0]!.cover!
      assert.strictEqual(cover.mimeType, "image/jpeg")
      assert.deepStrictEqual(jpegSize(cover.bytes), [1000, 1000])
      for (const write of writes) assert.strictEqual(write.cover, cover, "one cover, shared")
      const covers = yield* coverFiles
      assert.strictEqual(covers.size, 1)
      assert.deepStrictEqual([...covers.values()][0], cover.bytes)
    }).pipe(Effect.provide(simEngine())))

  it.effect("main_resolution sizes the embedded cover and external_resolution the cover.jpg, each fetched once", () =>
    Effect.gen(function*() {
      const both = yield* Effect.gen(function*() {
        yield* runVirtual(download(["sim:album:11"], jobSettings({ saveExternal: true }, { tracks: 10, tracksPerAlbum: 10 })))
        const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
        return { requests: yield* coverRequests, embedded: writes.map((write) => write.cover), files: yield* coverFiles }
      }).pipe(Effect.provide(simEngine()))
      assert.deepStrictEqual(both.requests, ["11", "11"], "one fetch per size")
      assert.strictEqual(new Set(both.embedded).size, 1, "one cover, shared")
      assert.deepStrictEqual(jpegSize(both.embedded[0]?.bytes), [1400, 1400], "OrpheusDL's main_resolution default")
      assert.deepStrictEqual([...both.files.values()].map(jpegSize), [[3000, 3000]], "OrpheusDL's external_resolution default")

      const externalOnly = yield* Effect.gen(function*() {
        yield* runVirtual(download(
          ["sim:album:11"],
          jobSettings({ saveExternal: true, embedCover: false, mainResolution: 640, externalResolution: 500 })
        ))
        const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
        return { requests: yield* coverRequests, embedded: writes.map((write) => write.cover), files: yield* coverFiles }
      }).pipe(Effect.provide(simEngine()))
      assert.deepStrictEqual(externalOnly.requests, ["11"])
      assert.isTrue(externalOnly.embedded.every((cover) => cover === undefined))
      assert.deepStrictEqual([...externalOnly.files.values()].map(jpegSize), [[500, 500]])

      const embeddedOnly = yield* Effect.gen(function*() {
        yield* runVirtual(download(["sim:album:11"], jobSettings({ mainResolution: 640 })))
        const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
        return { requests: yield* coverRequests, embedded: writes.map((write) => write.cover), files: yield* coverFiles }
      }).pipe(Effect.provide(simEngine()))
      assert.deepStrictEqual(embeddedOnly.requests, ["11"])
      assert.deepStrictEqual(jpegSize(embeddedOnly.embedded[0]?.bytes), [640, 640])
      assert.strictEqual(embeddedOnly.files.size, 0)
    }))

  it.effect("a track copied to a second album folder brings that folder its cover.jpg and its .lrc", () =>
    Effect.gen(function*() {
      // With force_album_format a playlist files each track in its album's folder inside the playlist's;
      // playlist 1 holds tracks of album 11, which are downloaded once and copied.
      const report = yield* runVirtual(
        download(["sim:album:11", "sim:playlist:1"], jobSettings({ saveExternal: true, forceAlbumFormat: true }))
      )
      assert.strictEqual(report.failed, 0)
      const files = yield* (yield* StorageMemory).files
      const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
      const events = yield* (yield* ProgressRecorder.ProgressRecorder).events
      const folderOf = (path: string) => path.slice(0, path.lastIndexOf("/"))
      const copies = events.flatMap((event) => {
        if (event._tag !== "ItemFinished") return []
        const from = /^copied from (.+?)(;|$)/.exec(event.reason ?? "")?.[1]
        return from === undefined || event.path === undefined ? [] : [{ from, to: event.path }]
      })
      assert.isAtLeast(copies.length, 2)
      const covers = yield* coverFiles
      let lrcs = 0
      for (const { from, to } of copies) {
        assert.notStrictEqual(folderOf(from), folderOf(to))
        assert.deepStrictEqual(jpegSize(covers.get(`${folderOf(to)}/cover.jpg`)), [3000, 3000], `${to} has its folder's cover.jpg`)
        assert.deepStrictEqual(files.get(to), files.get(from))
        // The copy is the tagged file: tags describe the track, wherever it is placed.
        assert.isTrue(writes.some((write) => write.path === from))
        assert.isFalse(writes.some((write) => write.path === to))
        const lrc = files.get(from.replace(/\.flac$/, ".lrc"))
        if (lrc !== undefined) {
          lrcs++
          assert.deepStrictEqual(files.get(to.replace(/\.flac$/, ".lrc")), lrc)
        }
      }
      assert.isAbove(lrcs, 0, "some of the copies have synced lyrics")
      // Folders that hold only copies, whose cover.jpg no download wrote.
      const downloaded = new Set(writes.map((write) => folderOf(write.path)))
      assert.isTrue(copies.some(({ to }) => !downloaded.has(folderOf(to))))
    }).pipe(Effect.provide(simEngine())))

  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])

  /** An album of two tracks whose cover is a PNG the service calls a JPEG. */
  const pictureProvider = (): Provider => {
    const album = new Album({ provider: "pix", id: "1", title: "Pictures", artist: "Painter", trackIds: ["1", "2"] })
    const tracks = album.trackIds.map((id) =>
      new Track({ provider: "pix", id, title: `Song ${id}`, artists: ["Painter"], album: "Pictures", albumId: "1", sizeBytes: 4 })
    )
    return {
      ...hostileProvider(),
      name: "pix",
      capabilities: { kinds: ["album"], search: false, batchTracks: false, cover: true, lyrics: false, urlForms: [] },
      track: (id) => Effect.succeed(tracks[Number(id) - 1]!),
      album: () => Effect.succeed(album),
      cover: () =>
        Effect.succeed(new CoverSource({
          body: { _tag: "StreamBody", open: (offset) => Effect.succeed({ offset, bytes: Stream.make(png.subarray(offset)) }) },
          mimeType: "image/jpeg"
        }))
    }
  }

  it.effect("a cover a service calls JPEG but serves as PNG is embedded as PNG and saved as cover.png", () =>
    Effect.gen(function*() {
      yield* runVirtual(download(["pix:album:1"], jobSettings({ saveExternal: true })))
      const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
      assert.deepStrictEqual(writes.map((write) => write.cover?.mimeType), ["image/png", "image/png"])
      const files = yield* (yield* StorageMemory).files
      assert.deepStrictEqual(files.get("Pictures/cover.png"), png)
      assert.isFalse(files.has("Pictures/cover.jpg"))
      assert.strictEqual(imageMimeType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), "image/png"), "image/jpeg")
      assert.strictEqual(imageMimeType(new Uint8Array([0x52, 0x49]), "image/webp"), "image/webp")
    }).pipe(Effect.provide(Layer.merge(engineOf("pix", pictureProvider()), TaggerMemory.layer()))))

  it.effect("embeds unsynced lyrics and saves synced ones as a .lrc beside the track", () =>
    Effect.gen(function*() {
      yield* runVirtual(download(["sim:album:11"], jobSettings()))
      const server = yield* SimServer
      const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
      const files = yield* (yield* StorageMemory).files
      const withLyrics = writes.filter((write) => write.tags.lyrics !== undefined)
      assert.isAbove(withLyrics.length, 0)
      for (const write of withLyrics) {
        assert.notMatch(write.tags.lyrics!, /^\[\d\d:/, "the plain lyrics are embedded")
        const lrc = files.get(write.path.replace(/\.flac$/, ".lrc"))
        assert.isDefined(lrc, `${write.path} has its .lrc`)
        assert.match(new TextDecoder().decode(lrc), /^\[\d\d:\d\d\.\d\d\]/)
      }
      assert.isFalse([...files.keys()].some((path) => path.endsWith("cover.jpg")), "no cover.jpg unless save_external")
      const track = server.catalog.track("1101")!
      const tags = writes.find((write) => write.path.includes("/01. "))!.tags
      assert.strictEqual(tags.title, track.title)
      assert.strictEqual(tags.upc, track.upc)
      assert.strictEqual(tags.date, track.releaseDate)
    }).pipe(Effect.provide(withTagger(testEngine({ profile: SimProfile.exact({ bandwidth: Infinity }) })))))

  it.effect("embeds the synced lyrics with embed_synced_lyrics, and fetches nothing with covers and lyrics off", () =>
    Effect.gen(function*() {
      yield* runVirtual(
        download(["sim:album:11"], jobSettings({ embedSyncedLyrics: true, saveSyncedLyrics: false }))
      )
      const writes = yield* (yield* TaggerMemory.TaggerMemory).writes
      assert.isTrue(writes.some((write) => /^\[\d\d:/.test(write.tags.lyrics ?? "")))
      const files = yield* (yield* StorageMemory).files
      assert.isFalse([...files.keys()].some((path) => path.endsWith(".lrc")))
    }).pipe(Effect.provide(withTagger(testEngine({ profile: SimProfile.exact({ bandwidth: Infinity }) })))))

  it.effect("a file that cannot be tagged is kept, and its item says why", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(
        download(["sim:album:11"], jobSettings({ embedLyrics: false, saveSyncedLyrics: false, embedCover: false }))
      )
      assert.strictEqual(report.done, 10)
      const requests = yield* (yield* SimServer).requests
      assert.isFalse(requests.some((r) => r.endpoint === "cover" || r.endpoint === "lyrics"))
      const files = yield* (yield* StorageMemory).files
      const kept = [...files.keys()].find((path) => path.includes("/03. "))
      assert.isDefined(kept)
      const finished = report.snapshot.items.get("sim:track:1103")
      assert.strictEqual(finished?.state, "done")
      assert.match(finished?.reason ?? "", /kept untagged: refused for the test/)
    }).pipe(
      Effect.provide(Layer.merge(
        testEngine({ profile: SimProfile.exact({ bandwidth: Infinity }) }),
        TaggerMemory.layer({ refuse: (path) => path.includes("/03. ") ? "refused for the test" : undefined })
      ))
    ))
})

describe("artist filters", () => {
  const artist = new Artist({ provider: "sim", id: "1", name: "The Band", albumIds: [] })
  const album = (title: string, overrides: Partial<Album> = {}) =>
    new Album({ provider: "sim", id: "9", title, artist: "The Band", artistId: "1", trackIds: [], ...overrides })
  const on = { ...defaultSettings, filterCollectorsEditions: true, filterLiveRecordings: true, filterOtherArtists: true }

  it("skips collector's editions and live recordings by their titles, as whole words", () => {
    assert.match(albumSkipReason(on, artist, album("Album (Deluxe Edition)"))!, /collector's edition/)
    assert.match(albumSkipReason(on, artist, album("25th Anniversary Remastered"))!, /collector's edition/)
    assert.match(albumSkipReason(on, artist, album("Live at Wembley"))!, /live recording/)
    assert.match(albumSkipReason(on, artist, album("MTV Unplugged"))!, /live recording/)
    assert.isUndefined(albumSkipReason(on, artist, album("Oliver's Delivery")))
    assert.isUndefined(albumSkipReason(defaultSettings, artist, album("Live at Wembley")))
  })

  it("skips other artists' albums and, with return_credited_albums off, albums it is only credited on", () => {
    assert.match(albumSkipReason(on, artist, album("Guest Spot", { artist: "Someone Else", artistId: "2" }))!, /Someone Else/)
    assert.isUndefined(albumSkipReason(on, artist, album("Same", { artist: " the band " })))
    const credited = { ...defaultSettings, returnCreditedAlbums: false }
    assert.match(albumSkipReason(credited, artist, album("Compilation", { artistId: "2" }))!, /credited only/)
    assert.isUndefined(albumSkipReason(credited, artist, album("Own")))
  })

  /** An artist with a studio album, a live one, a deluxe edition and a guest spot on someone else's album. */
  const discography = (): Provider => {
    const titles = ["Studio", "Live in Tokyo", "Studio (Deluxe Edition)", "Guest Spot"]
    const albums = titles.map((title, i) => {
      const by = i === 3 ? { artist: "Someone Else", artistId: "2" } : { artist: "The Band", artistId: "1" }
      const tracks = [1, 2].map((n) =>
        new Track({ provider: "fake", id: `${i + 1}${n}`, title: `Song ${n}`, artists: [by.artist], album: title, albumId: String(i + 1), trackNumber: n, totalTracks: 2, sizeBytes: 1 })
      )
      return new Album({ provider: "fake", id: String(i + 1), title, ...by, trackIds: tracks.map((t) => t.id), tracks })
    })
    const source = new TrackSource({
      body: { _tag: "StreamBody", open: (offset) => Effect.succeed({ offset, bytes: Stream.make(new Uint8Array([7]).subarray(offset)) }) },
      container: "flac",
      sizeBytes: 1
    })
    const loose = new Track({ provider: "fake", id: "99", title: "Loose", artists: ["The Band"], album: "Loose", sizeBytes: 1 })
    const all = [...albums.flatMap((album) => album.tracks ?? []), loose]
    return {
      ...hostileProvider(),
      name: "fake",
      capabilities: { kinds: ["album", "artist"], search: false, batchTracks: false, cover: false, lyrics: false, urlForms: [] },
      track: (id) => Effect.fromNullable(all.find((t) => t.id === id)).pipe(
        Effect.mapError(() => new NotFoundError({ provider: "fake", what: `track ${id}` }))
      ),
      album: (id) => Effect.succeed(albums[Number(id) - 1]!),
      // Artist 5 is the band again, seen as a service that also lists its tracks: one of an album's, one loose.
      artist: (id) =>
        Effect.succeed(
          id === "5"
            ? new Artist({ provider: "fake", id, name: "The Band", albumIds: ["1"], trackIds: ["11", "99"] })
            : new Artist({ provider: "fake", id, name: "The Band", albumIds: ["1", "2", "3", "4"] })
        ),
      source: () => Effect.succeed(source)
    }
  }

  it.effect("an artist download skips the filtered albums, each with its reason", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["fake:artist:1"], jobSettings({ ...on })))
      const albums = new Map([...report.snapshot.items.values()].filter((v) => v.kind === "album").map((v) => [v.item, v]))
      assert.strictEqual(albums.get("fake:album:1")?.state, "done")
      assert.match(albums.get("fake:album:2")?.reason ?? "", /live recording/)
      assert.match(albums.get("fake:album:3")?.reason ?? "", /collector's edition/)
      assert.match(albums.get("fake:album:4")?.reason ?? "", /by Someone Else/)
      for (const id of ["2", "3", "4"]) assert.strictEqual(albums.get(`fake:album:${id}`)?.state, "skipped")
      const files = [...(yield* (yield* StorageMemory).files).keys()].sort()
      assert.deepStrictEqual(files, ["The Band/Studio/1. Song 1.flac", "The Band/Studio/2. Song 2.flac"])
    }).pipe(Effect.provide(engineOf("fake", discography()))))

  it.effect("separate_tracks_skip_downloaded leaves out an artist's loose tracks that one of its albums holds", () =>
    Effect.gen(function*() {
      const filesAfter = (separateTracksSkipDownloaded: boolean) =>
        Effect.gen(function*() {
          const report = yield* runVirtual(download(["fake:artist:5"], jobSettings({ separateTracksSkipDownloaded })))
          assert.strictEqual(report.failed, 0)
          return [...(yield* (yield* StorageMemory).files).keys()].sort()
        }).pipe(Effect.provide(engineOf("fake", discography())))
      const album = ["The Band/Studio/1. Song 1.flac", "The Band/Studio/2. Song 2.flac"]
      assert.deepStrictEqual(yield* filesAfter(true), ["The Band/Loose.flac", ...album])
      assert.deepStrictEqual(yield* filesAfter(false), ["The Band/Loose.flac", "The Band/Song 1.flac", ...album])
    }))
})
