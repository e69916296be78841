import { assert, describe, it } from "@effect/vitest"
import { Album } from "../src/domain/Album.js"
import { parseTemplate, renderTemplate } from "../src/domain/PathTemplate.js"
import { Playlist } from "../src/domain/Playlist.js"
import type { Settings } from "../src/domain/Settings.js"
import { albumVariables, defaultSettings, trackVariables } from "../src/domain/Settings.js"
import { Track } from "../src/domain/Track.js"
import { albumLayout, artistInitials, playlistLayout, singleLayout } from "../src/programs/libraryLayout.js"

const settings = (overrides: Partial<Settings> = {}): Settings => ({ ...defaultSettings, ...overrides })

const track = (n: number, overrides: Partial<Track> = {}) =>
  new Track({
    provider: "sim",
    id: `t${n}`,
    title: `Song ${n}`,
    artists: ["The Band", "A Guest"],
    artistId: "7",
    album: "The Album",
    albumId: "70",
    albumArtist: "The Band",
    trackNumber: n,
    totalTracks: 12,
    discNumber: 1,
    totalDiscs: 1,
    releaseYear: 2001,
    releaseDate: "2001-03-04",
    isrc: "USABC0100001",
    upc: "123456789012",
    explicit: false,
    copyright: "℗ 2001 Label",
    codec: "FLAC",
    bitDepth: 16,
    sampleRate: 44_100,
    ...overrides
  })

const album = (count: number, overrides: Partial<Album> = {}) =>
  new Album({
    provider: "sim",
    id: "70",
    title: "The Album",
    artist: "The Band",
    artistId: "7",
    trackIds: Array.from({ length: count }, (_, i) => `t${i + 1}`),
    releaseYear: 2001,
    explicit: false,
    upc: "123456789012",
    ...overrides
  })

const tracksOf = (count: number, overrides: Partial<Track> = {}) =>
  Array.from({ length: count }, (_, i) => track(i + 1, { totalTracks: count, ...overrides }))

const planAlbum = (s: Settings, a: Album, tracks: ReadonlyArray<Track>, index: number, artist?: string) =>
  albumLayout(s, a, tracks, { artist })(tracks[index]!, index).segments.join("/")

describe("PathTemplate: Python str.format, as OrpheusDL uses it", () => {
  const render = (source: string, values: Record<string, string>) => {
    const parsed = parseTemplate(source, Object.keys(values))
    if (typeof parsed === "string") throw new Error(parsed)
    return renderTemplate(parsed, values)
  }

  it("fills variables and keeps literal text", () => {
    assert.strictEqual(render("{track_number}. {name}", { track_number: "01", name: "Intro" }), "01. Intro")
    assert.strictEqual(render("{artist}/{name}", { artist: "A", name: "B" }), "A/B")
  })

  it("reads {{ and }} as literal braces", () => {
    assert.strictEqual(render("{{{name}}}", { name: "x" }), "{x}")
  })

  it("takes string format specs and a !s conversion", () => {
    assert.strictEqual(render("{name:.3}", { name: "abcdef" }), "abc")
    assert.strictEqual(render("{n:>03}", { n: "7" }), "007")
    assert.strictEqual(render("{n:03}", { n: "7" }), "007")
    assert.strictEqual(render("[{n:^5}]", { n: "ab" }), "[ ab  ]")
    assert.strictEqual(render("{name!s}", { name: "x" }), "x")
  })

  it("names what is wrong with a template", () => {
    assert.match(parseTemplate("{nmae}", trackVariables) as string, /unknown variable \{nmae\}.*\{name\}/)
    assert.match(parseTemplate("{name", trackVariables) as string, /never closed/)
    assert.match(parseTemplate("name}", trackVariables) as string, /single "}"/)
    assert.match(parseTemplate("{}", trackVariables) as string, /empty field/)
    assert.match(parseTemplate("{name[0]}", trackVariables) as string, /not a variable/)
    assert.match(parseTemplate("{name:d}", trackVariables) as string, /format spec/)
  })

  it("accepts every variable OrpheusDL documents", () => {
    const track = [
      "name",
      "album",
      "album_artist",
      "album_id",
      "track_number",
      "total_tracks",
      "disc_number",
      "total_discs",
      "release_date",
      "release_year",
      "artist_id",
      "isrc",
      "upc",
      "explicit",
      "copyright",
      "codec",
      "sample_rate",
      "bit_depth"
    ]
    const albums = ["name", "id", "artist", "artist_id", "release_year", "upc", "explicit", "quality", "artist_initials"]
    for (const name of track) assert.notStrictEqual(typeof parseTemplate(`{${name}}`, trackVariables), "string", name)
    for (const name of albums) assert.notStrictEqual(typeof parseTemplate(`{${name}}`, albumVariables), "string", name)
  })
})

describe("the library layout, OrpheusDL's way", () => {
  it("files an album download as {name}{explicit}/{track_number}. {name} by default", () => {
    const tracks = tracksOf(12)
    assert.strictEqual(planAlbum(settings(), album(12), tracks, 0), "The Album/01. Song 1")
    assert.strictEqual(planAlbum(settings(), album(12), tracks, 11), "The Album/12. Song 12")
  })

  it("zero-pads track numbers to the digits of the track count (enable_zfill)", () => {
    assert.strictEqual(planAlbum(settings(), album(9), tracksOf(9), 0), "The Album/1. Song 1")
    assert.strictEqual(planAlbum(settings(), album(10), tracksOf(10), 0), "The Album/01. Song 1")
    assert.strictEqual(planAlbum(settings(), album(100), tracksOf(100), 6), "The Album/007. Song 7")
    const zfill = settings({ trackFilenameFormat: "{track_number}-{total_tracks} {disc_number}-{total_discs} {name}" })
    assert.strictEqual(planAlbum(zfill, album(12), tracksOf(12), 2), "The Album/03-12 01-01 Song 3")
  })

  it("does not pad with enable_zfill off", () => {
    assert.strictEqual(planAlbum(settings({ enableZfill: false }), album(12), tracksOf(12), 0), "The Album/1. Song 1")
  })

  it("marks explicit albums and tracks with [E]", () => {
    const s = settings({ trackFilenameFormat: "{track_number}. {name}{explicit}" })
    const tracks = tracksOf(12).map((t, i) => i === 1 ? track(2, { totalTracks: 12, explicit: true }) : t)
    assert.strictEqual(planAlbum(s, album(12, { explicit: true }), tracks, 1), "The Album [E]/02. Song 2 [E]")
    assert.strictEqual(planAlbum(s, album(12, { explicit: true }), tracks, 0), "The Album [E]/01. Song 1")
  })

  it("adds [96kHz 24bit] for {quality} on hi-res albums, nothing for CD quality", () => {
    const s = settings({ albumFormat: "{artist} - {name}{quality}" })
    const hires = tracksOf(12, { bitDepth: 24, sampleRate: 96_000 })
    assert.strictEqual(planAlbum(s, album(12), hires, 0), "The Band - The Album [96kHz 24bit]/01. Song 1")
    assert.strictEqual(planAlbum(s, album(12), tracksOf(12), 0), "The Band - The Album/01. Song 1")
  })

  it("makes folders from / in a format, as in {artist}/{album}", () => {
    const s = settings({ albumFormat: "{artist_initials}/{artist}/{release_year} - {name}" })
    assert.strictEqual(planAlbum(s, album(12), tracksOf(12), 0), "T/The Band/2001 - The Album/01. Song 1")
    assert.strictEqual(artistInitials("Émilie Simon"), "E")
    assert.strictEqual(artistInitials("2Pac"), "#")
  })

  it("puts multi-disc albums in CD n folders, numbered in album order", () => {
    const tracks = tracksOf(12).map((_, i) =>
      track(i + 1, { totalTracks: 6, trackNumber: (i % 6) + 1, discNumber: i < 6 ? 1 : 2, totalDiscs: 2 })
    )
    assert.strictEqual(planAlbum(settings(), album(12), tracks, 0), "The Album/CD 1/01. Song 1")
    assert.strictEqual(planAlbum(settings(), album(12), tracks, 6), "The Album/CD 2/07. Song 7")
  })

  it("files an album of one track as a single, unless force_album_format", () => {
    assert.strictEqual(planAlbum(settings(), album(1), tracksOf(1), 0), "Song 1")
    assert.strictEqual(planAlbum(settings({ forceAlbumFormat: true }), album(1), tracksOf(1), 0), "The Album/1. Song 1")
  })

  it("puts an artist's albums under a folder named after the artist", () => {
    assert.strictEqual(planAlbum(settings(), album(12), tracksOf(12), 0, "The Band"), "The Band/The Album/01. Song 1")
    const plan = albumLayout(settings(), album(12), tracksOf(12), { artist: "The Band" })(tracksOf(12)[0]!, 0)
    assert.deepStrictEqual(plan.albumFolder, ["The Band", "The Album"])
  })

  it("adds the service's folder with source_subdirectories", () => {
    assert.strictEqual(planAlbum(settings({ sourceSubdirectories: true }), album(12), tracksOf(12), 0), "Sim/The Album/01. Song 1")
  })

  it("files a single as {name}, its number unpadded, or in its album's folder with force_album_format", () => {
    assert.strictEqual(singleLayout(settings(), track(3)).segments.join("/"), "Song 3")
    const numbered = settings({ singleFullPathFormat: "{album_artist}/{album}/{track_number}. {name}" })
    assert.strictEqual(singleLayout(numbered, track(3)).segments.join("/"), "The Band/The Album/3. Song 3")
    assert.strictEqual(singleLayout(settings({ forceAlbumFormat: true }), track(3)).segments.join("/"), "The Album/03. Song 3")
  })

  it("numbers playlist tracks in playlist order inside {name}{explicit}", () => {
    const playlist = new Playlist({ provider: "sim", id: "1", name: "Road Trip", creator: "Ann", trackIds: ["a", "b"] })
    const tracks = Array.from({ length: 15 }, (_, i) => track(40 + i))
    const plan = playlistLayout(settings(), playlist, 15)
    assert.strictEqual(plan(tracks[0]!, 0).segments.join("/"), "Road Trip/01. Song 40")
    assert.strictEqual(plan(tracks[14]!, 14).segments.join("/"), "Road Trip/15. Song 54")
    const named = playlistLayout(settings({ playlistFormat: "{creator} - {name} ({tracks})" }), playlist, 15)
    assert.strictEqual(named(tracks[0]!, 0).segments.join("/"), "Ann - Road Trip (15)/01. Song 40")
  })

  it("marks a playlist track's album folder {explicit} by its album, so it joins the album's own folder", () => {
    const forced = settings({ forceAlbumFormat: true })
    const clean = track(4, { explicit: false, albumExplicit: true })
    const fromAlbum = planAlbum(forced, album(12, { explicit: true }), tracksOf(12), 3)
    assert.strictEqual(fromAlbum, "The Album [E]/04. Song 4")
    assert.strictEqual(singleLayout(forced, clean).segments.join("/"), fromAlbum)
    // Where the service does not say, the track's own mark is all there is.
    assert.strictEqual(singleLayout(forced, track(4, { explicit: true })).segments.join("/"), fromAlbum)
  })

  it("uses album_format inside the playlist folder with force_album_format", () => {
    const playlist = new Playlist({ provider: "sim", id: "1", name: "Road Trip", trackIds: [] })
    const plan = playlistLayout(settings({ forceAlbumFormat: true }), playlist, 15)(track(4), 0)
    assert.strictEqual(plan.segments.join("/"), "Road Trip/The Album/04. Song 4")
  })

  it("never lets a value make a folder: only the format's own / do", () => {
    const plan = singleLayout(settings({ singleFullPathFormat: "{artist}/{name}" }), track(1, { artists: ["AC/DC"], title: "a/../b" }))
    assert.deepStrictEqual(plan.segments, ["AC_DC", "a_.._b"])
  })
})
