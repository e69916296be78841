import * as Schema from "effect/Schema"

/**
 * The parts of Subsonic 1.16.1 / OpenSubsonic JSON answers lyra reads. Servers
 * differ (gonic, Navidrome, Airsonic, Ampache, LMS...): fields may be absent or
 * null, ids and numbers may come as numbers or strings, and a list of one may
 * come as a bare object. Unknown fields are ignored.
 */

/** Absent and `null` both decode to absent. */
const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { nullable: true })

/** An id: a string, or a number some servers send. */
export const Id = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, { strict: true, decode: String, encode: Number })
)

/** A number, or a numeric string. */
const Num = Schema.Union(Schema.Number, Schema.NumberFromString)

/** A list, or one bare item (XML-converted answers), as a list. */
const List = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Union(Schema.Array(item), item).pipe(
    Schema.transform(Schema.Array(Schema.typeSchema(item)), {
      strict: true,
      decode: (value) => (Array.isArray(value) ? value : [value]) as ReadonlyArray<A>,
      encode: (value) => value as ReadonlyArray<A>
    })
  )

const Named = Schema.Struct({ id: opt(Id), name: Schema.String })
const Genre = Schema.Struct({ name: Schema.String })

/** `Child`: one song. */
export const Song = Schema.Struct({
  id: Id,
  title: opt(Schema.String),
  album: opt(Schema.String),
  albumId: opt(Id),
  artist: opt(Schema.String),
  artistId: opt(Id),
  artists: opt(List(Named)),
  displayArtist: opt(Schema.String),
  albumArtists: opt(List(Named)),
  displayAlbumArtist: opt(Schema.String),
  displayComposer: opt(Schema.String),
  track: opt(Num),
  discNumber: opt(Num),
  year: opt(Num),
  genre: opt(Schema.String),
  genres: opt(List(Genre)),
  coverArt: opt(Id),
  size: opt(Num),
  contentType: opt(Schema.String),
  suffix: opt(Schema.String),
  duration: opt(Num),
  bitRate: opt(Num),
  bitDepth: opt(Num),
  samplingRate: opt(Num),
  isrc: opt(List(Schema.String)),
  explicitStatus: opt(Schema.String),
  isDir: opt(Schema.Boolean),
  isVideo: opt(Schema.Boolean)
})
export type Song = typeof Song.Type

const ItemDate = Schema.Struct({ year: opt(Num), month: opt(Num), day: opt(Num) })

/** `AlbumID3` as listed in an artist or a search. */
export const AlbumSummary = Schema.Struct({
  id: Id,
  name: opt(Schema.String),
  title: opt(Schema.String),
  artist: opt(Schema.String),
  artistId: opt(Id),
  year: opt(Num),
  songCount: opt(Num),
  coverArt: opt(Id)
})

/** `AlbumID3WithSongs`: getAlbum. */
export const AlbumWithSongs = Schema.Struct({
  ...AlbumSummary.fields,
  displayArtist: opt(Schema.String),
  genre: opt(Schema.String),
  genres: opt(List(Genre)),
  recordLabels: opt(List(Schema.Struct({ name: Schema.String }))),
  releaseDate: opt(ItemDate),
  isCompilation: opt(Schema.Boolean),
  explicitStatus: opt(Schema.String),
  song: opt(List(Song))
})
export type AlbumWithSongs = typeof AlbumWithSongs.Type

/** `ArtistWithAlbumsID3`: getArtist. */
export const ArtistWithAlbums = Schema.Struct({
  id: Id,
  name: Schema.String,
  coverArt: opt(Id),
  album: opt(List(AlbumSummary))
})
export type ArtistWithAlbums = typeof ArtistWithAlbums.Type

/** `PlaylistWithSongs`: getPlaylist. */
export const PlaylistWithSongs = Schema.Struct({
  id: Id,
  name: Schema.String,
  owner: opt(Schema.String),
  comment: opt(Schema.String),
  coverArt: opt(Id),
  entry: opt(List(Song))
})
export type PlaylistWithSongs = typeof PlaylistWithSongs.Type

/** getPlaylists, for searching playlists by name. */
export const Playlists = Schema.Struct({
  playlist: opt(List(Schema.Struct({ id: Id, name: Schema.String, owner: opt(Schema.String) })))
})

/** `searchResult3`: search3. */
export const SearchResult3 = Schema.Struct({
  artist: opt(List(Schema.Struct({ id: Id, name: Schema.String }))),
  album: opt(List(AlbumSummary)),
  song: opt(List(Song))
})
export type SearchResult3 = typeof SearchResult3.Type

/** `lyricsList`: getLyricsBySongId (OpenSubsonic `songLyrics`). */
export const LyricsList = Schema.Struct({
  structuredLyrics: opt(List(Schema.Struct({
    lang: opt(Schema.String),
    synced: opt(Schema.Boolean),
    offset: opt(Num),
    line: opt(List(Schema.Struct({ start: opt(Num), value: Schema.String })))
  })))
})
export type LyricsList = typeof LyricsList.Type

/** The envelope every answer comes in; the payload sits under its own key beside these. */
export const Envelope = Schema.Struct({
  "subsonic-response": Schema.Struct({
    status: Schema.String,
    version: opt(Schema.String),
    type: opt(Schema.String),
    openSubsonic: opt(Schema.Boolean),
    error: opt(Schema.Struct({ code: Num, message: opt(Schema.String) }))
  }, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type Envelope = typeof Envelope.Type
