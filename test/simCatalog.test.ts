import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Album } from "../src/domain/Album.js"
import { Artist } from "../src/domain/Artist.js"
import { Playlist } from "../src/domain/Playlist.js"
import { Track } from "../src/domain/Track.js"
import { defaultShape, SimCatalog } from "../src/layers/sim/SimCatalog.js"

const catalog = new SimCatalog(1, defaultShape)

const allAlbums = (c: SimCatalog) =>
  Array.from({ length: c.shape.artists }, (_, i) => c.artist(String(i + 1))!).flatMap((artist) =>
    artist.albumIds.map((id) => c.album(id)!)
  )

describe("SimCatalog", () => {
  it("is a function of the seed", () => {
    const again = new SimCatalog(1, defaultShape)
    const other = new SimCatalog(2, defaultShape)
    for (const id of ["1", "7", "50"]) assert.deepStrictEqual(again.artist(id), catalog.artist(id))
    for (const id of ["11", "23", "502"]) assert.deepStrictEqual(again.album(id), catalog.album(id))
    for (const id of ["1101", "1405", "2301"]) assert.deepStrictEqual(again.track(id), catalog.track(id))
    assert.deepStrictEqual(again.playlist("3"), catalog.playlist("3"))
    const names = (c: SimCatalog) => ["1", "2", "3", "4", "5"].map((id) => c.artist(id)!.name).join("|")
    assert.notStrictEqual(names(other), names(catalog))
    assert.notDeepEqual(other.track("1101"), catalog.track("1101"))
  })

  it("makes only entities that satisfy their schemas (it builds them unvalidated)", () => {
    const wide = new SimCatalog(7, { ...defaultShape, artists: 20 })
    for (let a = 1; a <= 20; a++) {
      const artist = wide.artist(String(a))!
      Schema.validateSync(Artist)(artist)
      for (const albumId of artist.albumIds) {
        const album = wide.album(albumId)!
        Schema.validateSync(Album)(album)
        for (const trackId of album.trackIds) Schema.validateSync(Track)(wide.track(trackId)!)
      }
    }
    for (let p = 1; p <= wide.shape.playlists; p++) Schema.validateSync(Playlist)(wide.playlist(String(p))!)
  })

  it("gives artist 1 four albums of ten tracks", () => {
    const artist = catalog.artist("1")!
    assert.deepStrictEqual(artist.albumIds, ["11", "12", "13", "14"])
    const trackIds = artist.albumIds.flatMap((id) => catalog.album(id)!.trackIds)
    assert.strictEqual(trackIds.length, 40)
    assert.strictEqual(new Set(trackIds).size, 40)
    for (const id of trackIds) {
      const track = catalog.track(id)!
      assert.strictEqual(track.artistId, "1")
      assert.strictEqual(track.artists[0], artist.name)
      assert.isTrue(track.sizeBytes! >= 500_000 && track.sizeBytes! <= 1_210_000)
    }
    const first = catalog.album("11")!
    assert.deepStrictEqual(first.trackIds.slice(0, 2), ["1101", "1102"])
    const track = catalog.track("1101")!
    assert.strictEqual(track.albumId, "11")
    assert.strictEqual(track.album, first.title)
    assert.strictEqual(track.trackNumber, 1)
  })

  it("fills the schemas with plausible metadata", () => {
    const albums = allAlbums(catalog)
    const tracks = albums.flatMap((album) => album.trackIds.map((id) => catalog.track(id)!))
    assert.isTrue(tracks.length > 1000)
    for (const track of tracks) {
      assert.match(track.isrc!, /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/)
      assert.match(track.upc!, /^\d{12}$/)
      assert.match(track.releaseDate!, /^\d{4}-\d{2}-\d{2}$/)
      assert.isTrue(track.trackNumber! >= 1 && track.trackNumber! <= track.totalTracks!)
      assert.isTrue(track.discNumber! >= 1 && track.discNumber! <= track.totalDiscs!)
      assert.isTrue(track.releaseYear! >= 1965 && track.releaseYear! <= 2025)
      assert.isTrue(track.genres!.length >= 1)
      assert.strictEqual(track.sizeBytes, track.durationSeconds! * defaultShape.audioBytesPerSecond)
    }
    assert.isTrue(tracks.some((track) => track.explicit === true))
    assert.isTrue(tracks.some((track) => track.artists.length > 1), "some featured artists")
    assert.isTrue(tracks.some((track) => track.totalDiscs === 2), "some double albums")
    for (let a = 1; a <= 50; a++) {
      const titles = catalog.artist(String(a))!.albumIds.map((id) => catalog.album(id)!.title)
      assert.strictEqual(new Set(titles).size, titles.length, "album titles are distinct per artist")
    }
    for (const album of albums) {
      const titles = album.trackIds.map((id) => catalog.track(id)!.title)
      assert.strictEqual(new Set(titles).size, titles.length, "track titles are distinct per album")
      assert.match(album.upc!, /^\d{12}$/)
      assert.isTrue(album.trackIds.length >= 1 && album.trackIds.length <= 14)
    }
  })

  it("has compilations that share tracks with their artist's albums", () => {
    const shared = allAlbums(catalog).filter((album) =>
      album.trackIds.some((id) => catalog.track(id)!.albumId !== album.id)
    )
    assert.isTrue(shared.length >= 3, `compilations: ${shared.length}`)
    for (const album of shared) {
      for (const id of album.trackIds) {
        const track = catalog.track(id)!
        assert.strictEqual(track.artistId, album.artistId)
        assert.include(catalog.album(track.albumId!)!.trackIds, id)
      }
    }
  })

  it("has playlists 1..20 of 10-40 tracks from across the catalog", () => {
    for (let n = 1; n <= 20; n++) {
      const playlist = catalog.playlist(String(n))!
      assert.isTrue(playlist.trackIds.length >= 10 && playlist.trackIds.length <= 40, playlist.name)
      assert.strictEqual(new Set(playlist.trackIds).size, playlist.trackIds.length)
      for (const id of playlist.trackIds) assert.isDefined(catalog.track(id))
    }
    assert.isUndefined(catalog.playlist("21"))
    const artistOne = new Set(["11", "12", "13", "14"].flatMap((id) => catalog.album(id)!.trackIds))
    assert.isTrue(catalog.playlist("1")!.trackIds.some((id) => artistOne.has(id)))
  })

  it("knows nothing outside the shape", () => {
    for (const id of ["0", "51", "abc", "", "01", "1e3", "-1", "1.5"]) assert.isUndefined(catalog.artist(id), id)
    for (const id of ["15", "10", "1", "510"]) assert.isUndefined(catalog.album(id), id)
    for (const id of ["1111", "1100", "11", "1501"]) assert.isUndefined(catalog.track(id), id)
    assert.isUndefined(catalog.playlist("0"))
  })

  it("searches names case-insensitively", () => {
    const name = catalog.artist("1")!.name
    const hits = catalog.search("artist", name.toUpperCase(), 5)
    assert.isTrue(hits.some((hit) => hit.id === "1" && hit.name === name))
    const title = catalog.track("1103")!.title
    const tracks = catalog.search("track", title.toLowerCase(), 100)
    assert.isTrue(tracks.some((hit) => hit.id === "1103"))
    assert.isTrue(tracks.every((hit) => hit.name.toLowerCase().includes(title.toLowerCase())))
    assert.strictEqual(catalog.search("track", "the", 3).length, 3)
    const album = catalog.album("12")!
    assert.isTrue(catalog.search("album", album.title, 50).some((hit) => hit.id === "12"))
    assert.deepStrictEqual(catalog.search("artist", "no such artist anywhere", 5), [])
  })

  it("decodes any id without materializing a huge catalog", () => {
    const huge = new SimCatalog(9, { ...defaultShape, artists: 1_000_000 })
    const artist = huge.artist("987654")!
    const album = huge.album(artist.albumIds[0]!)!
    const track = huge.track(album.trackIds[0]!)!
    assert.strictEqual(track.artistId, "987654")
  })
})
