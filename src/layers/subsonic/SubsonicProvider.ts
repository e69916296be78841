import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Album } from "../../domain/Album.js"
import { Artist } from "../../domain/Artist.js"
import { CoverSource, Lyrics } from "../../domain/Artwork.js"
import type { MediaKind } from "../../domain/MediaRef.js"
import { Playlist } from "../../domain/Playlist.js"
import type { Quality } from "../../domain/Quality.js"
import { lossyKbps } from "../../domain/Quality.js"
import { SearchResult } from "../../domain/SearchResult.js"
import { Track } from "../../domain/Track.js"
import { TrackSource } from "../../domain/TrackSource.js"
import { UsageError } from "../../domain/UsageError.js"
import type { MusicApiError } from "../../services/MusicApiError.js"
import { InvalidError } from "../../services/MusicApiError.js"
import type { Provider } from "../../services/Provider.js"
import type { SubsonicClient } from "./SubsonicClient.js"
import { make as makeClient } from "./SubsonicClient.js"
import type { SubsonicSettings } from "./SubsonicConfig.js"
import { capabilities, description, provider as name } from "./SubsonicInfo.js"
import type { AlbumWithSongs, Song } from "./SubsonicResponse.js"
import {
  AlbumWithSongs as AlbumSchema,
  ArtistWithAlbums,
  LyricsList,
  Playlists,
  PlaylistWithSongs,
  SearchResult3,
  Song as SongSchema
} from "./SubsonicResponse.js"
import { parseWebUrl } from "./SubsonicUrl.js"

/** The provider, with the checks the engine cannot see through the port. */
export interface SubsonicProvider extends Provider {
  /** Checks the server answers and takes the credentials. */
  readonly ping: Effect.Effect<void, MusicApiError>
}

const int = (value: number | undefined) => value === undefined || !Number.isFinite(value) ? undefined : Math.trunc(value)

/** Sets only the fields that have a value, as `exactOptionalPropertyTypes` wants. */
const defined = <A extends Record<string, unknown>>(fields: A): { [K in keyof A]: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as never

const names = (list: ReadonlyArray<{ readonly name: string }> | undefined) =>
  (list ?? []).map((entry) => entry.name).filter((entry) => entry.trim() !== "")

/** A song as a Track; `album` adds what the album knows (its artist, its size). */
export const toTrack = (song: Song, album?: AlbumWithSongs): Track => {
  const artists = names(song.artists)
  const discs = album?.song?.map((s) => int(s.discNumber) ?? 1) ?? []
  const explicit = song.explicitStatus === "explicit" ? true : song.explicitStatus === "clean" ? false : undefined
  return new Track({
    provider: name,
    id: song.id,
    title: song.title ?? `track ${song.id}`,
    artists: artists.length > 0 ? artists : [song.displayArtist ?? song.artist ?? "Unknown Artist"],
    album: song.album ?? album?.name ?? "",
    ...defined({
      artistId: song.artistId,
      albumId: song.albumId ?? album?.id,
      albumArtist: song.displayAlbumArtist ?? names(song.albumArtists)[0] ?? album?.displayArtist ?? album?.artist,
      trackNumber: int(song.track),
      totalTracks: album?.song === undefined ? undefined : album.song.length,
      discNumber: int(song.discNumber),
      totalDiscs: discs.length === 0 ? undefined : Math.max(...discs),
      releaseYear: int(song.year) ?? int(album?.year),
      durationSeconds: song.duration,
      explicit,
      isrc: song.isrc?.[0],
      genres: song.genres === undefined ? (song.genre === undefined ? undefined : [song.genre]) : names(song.genres),
      composer: song.displayComposer,
      label: album?.recordLabels?.[0]?.name,
      codec: song.suffix?.toLowerCase(),
      bitDepth: int(song.bitDepth),
      sampleRate: int(song.samplingRate),
      bitrate: int(song.bitRate),
      sizeBytes: int(song.size)
    })
  })
}

/** Suffixes of lossy formats, which a lossy tier keeps when their bit rate is low enough. */
const lossyCodecs: ReadonlySet<string> = new Set(["mp3", "aac", "m4a", "ogg", "oga", "opus", "mpc", "wma"])

/** What servers call MP3 in a Content-Type. */
const mp3MediaTypes: ReadonlyArray<string> = ["audio/mpeg", "audio/mp3", "audio/mpeg3"]

/**
 * The fewest bytes a whole transcode of `seconds` at `kbps` can have: a quarter
 * of its nominal size, so that a variable-rate encode of quiet music passes and
 * one that ended early (its connection closed cleanly) does not.
 */
const transcodeFloor = (seconds: number | undefined, kbps: number) =>
  seconds === undefined || !(seconds >= 1) ? undefined : Math.floor(seconds * kbps * 125 / 4)

/** The file extension for a song's suffix; a server's odd suffix (`../x`, `a b`) gives none of its own. */
const containerOf = (suffix: string | undefined) => suffix !== undefined && /^[a-z0-9]{1,8}$/.test(suffix) ? suffix : "bin"

/** The LRC text of timed lines: `[mm:ss.xx]line`. */
const lrc = (lines: ReadonlyArray<{ readonly start?: number | undefined; readonly value: string }>, offset: number) =>
  lines.map((line) => {
    const at = Math.max(0, (line.start ?? 0) + offset)
    const minutes = Math.floor(at / 60_000)
    const seconds = ((at % 60_000) / 1000).toFixed(2).padStart(5, "0")
    return `[${String(minutes).padStart(2, "0")}:${seconds}]${line.value}`
  }).join("\n")

/** A search3 request that asks only for `kind`. */
const searchParams = (kind: MediaKind, query: string, limit: number) => ({
  query,
  artistCount: kind === "artist" ? String(limit) : "0",
  albumCount: kind === "album" ? String(limit) : "0",
  songCount: kind === "track" ? String(limit) : "0"
})

/** The provider over one configured server's client. */
export const fromClient = Effect.fnUntraced(function*(client: SubsonicClient) {
  /** The cover art id of each track seen, so that a cover needs no lookup. */
  const coverArt = new Map<string, string>()
  const remember = (songs: ReadonlyArray<Song> | undefined, fallback?: string) => {
    for (const song of songs ?? []) {
      const cover = song.coverArt ?? fallback
      if (cover !== undefined) coverArt.set(song.id, cover)
    }
  }

  const ping = client.get("ping", {}, "the server", undefined, Schema.Unknown).pipe(Effect.asVoid)
  const supportsLyrics = yield* Effect.cached(
    client.get("getOpenSubsonicExtensions", {}, "OpenSubsonic extensions", "openSubsonicExtensions", Schema.Unknown)
      .pipe(
        Effect.map((extensions) =>
          Array.isArray(extensions) && extensions.some((e) => (e as { name?: unknown })?.name === "songLyrics")
        ),
        Effect.orElseSucceed(() => false)
      )
  )
  // Wrong credentials stop the job before it starts; anything else is left to each call's retries.
  // A server without lyrics loses the `lyrics` method, so no call is admitted (and paced) for nothing.
  const ready = yield* Effect.cached(
    ping.pipe(
      Effect.catchAll((error) =>
        error._tag === "UnauthorizedError" ? new UsageError({ message: error.message }) : Effect.void
      ),
      Effect.zipRight(supportsLyrics),
      Effect.map((supported) => {
        if (!supported) delete provider.lyrics
      })
    )
  )

  const provider: { -readonly [K in keyof SubsonicProvider]: SubsonicProvider[K] } = {
    name,
    description,
    capabilities,
    localSource: true,
    parseUrl: parseWebUrl(client.settings.baseUrl),
    ping,
    ready,
    track: Effect.fn("SubsonicProvider.track")(function*(id: string) {
      const song = yield* client.get("getSong", { id }, `track ${id}`, "song", SongSchema)
      remember([song])
      return toTrack(song)
    }),
    album: Effect.fn("SubsonicProvider.album")(function*(id: string) {
      const album = yield* client.get("getAlbum", { id }, `album ${id}`, "album", AlbumSchema)
      const songs = album.song ?? []
      remember(songs, album.coverArt)
      const tracks = songs.map((song) => toTrack(song, album))
      return new Album({
        provider: name,
        id: album.id,
        title: album.name ?? album.title ?? `album ${album.id}`,
        artist: album.displayArtist ?? album.artist ?? "Unknown Artist",
        trackIds: tracks.map((track) => track.id),
        // Listed inline: no call per track.
        tracks,
        ...defined({
          artistId: album.artistId,
          releaseYear: int(album.year) ?? int(album.releaseDate?.year),
          explicit: album.explicitStatus === "explicit" ? true : undefined,
          label: album.recordLabels?.[0]?.name,
          genres: album.genres === undefined ? (album.genre === undefined ? undefined : [album.genre]) : names(album.genres)
        })
      })
    }),
    artist: Effect.fn("SubsonicProvider.artist")(function*(id: string) {
      const artist = yield* client.get("getArtist", { id }, `artist ${id}`, "artist", ArtistWithAlbums)
      return new Artist({ provider: name, id: artist.id, name: artist.name, albumIds: (artist.album ?? []).map((a) => a.id) })
    }),
    playlist: Effect.fn("SubsonicProvider.playlist")(function*(id: string) {
      const playlist = yield* client.get("getPlaylist", { id }, `playlist ${id}`, "playlist", PlaylistWithSongs)
      const songs = playlist.entry ?? []
      remember(songs)
      const tracks = songs.map((song) => toTrack(song))
      return new Playlist({
        provider: name,
        id: playlist.id,
        name: playlist.name,
        trackIds: tracks.map((track) => track.id),
        tracks,
        ...defined({ creator: playlist.owner, description: playlist.comment })
      })
    }),
    search: Effect.fn("SubsonicProvider.search")(function*(kind: MediaKind, query: string, limit: number) {
      if (query.trim().length === 0 || !(limit >= 1)) {
        return yield* new InvalidError({ provider: name, reason: "search: an empty query or a limit below 1" })
      }
      if (kind === "playlist") {
        // search3 has no playlists: match the names of the ones this user can see.
        const all = yield* client.get("getPlaylists", {}, "playlists", "playlists", Playlists)
        const words = query.toLowerCase().split(/\s+/).filter((w) => w !== "")
        return (all.playlist ?? [])
          .filter((p) => words.every((word) => p.name.toLowerCase().includes(word)))
          .slice(0, limit)
          .map((p) => new SearchResult({ provider: name, kind, id: p.id, name: p.name, artists: p.owner === undefined ? [] : [p.owner] }))
      }
      const found = yield* client.get("search3", searchParams(kind, query, limit), `search "${query}"`, "searchResult3", SearchResult3)
      switch (kind) {
        case "artist":
          return (found.artist ?? []).slice(0, limit).map((a) =>
            new SearchResult({ provider: name, kind, id: a.id, name: a.name, artists: [] })
          )
        case "album":
          return (found.album ?? []).slice(0, limit).map((a) => {
            const year = int(a.year)
            return new SearchResult({
              provider: name,
              kind,
              id: a.id,
              name: a.name ?? a.title ?? a.id,
              artists: a.artist === undefined ? [] : [a.artist],
              ...(year === undefined ? {} : { year })
            })
          })
        case "track":
          remember(found.song)
          return (found.song ?? []).slice(0, limit).map((song) => {
            const track = toTrack(song)
            return new SearchResult({
              provider: name,
              kind,
              id: track.id,
              name: track.title,
              artists: track.artists,
              ...(track.releaseYear === undefined ? {} : { year: track.releaseYear })
            })
          })
      }
    }),
    // hifi and lossless: `download`, the original file (the API has no lossless
    // downsampling). A lossy tier: `stream`, transcoded to MP3 at the tier's bit
    // rate, unless the original is lossy and no bigger already.
    source: Effect.fn("SubsonicProvider.source")(function*(track: Track, quality: Quality) {
      const kbps = lossyKbps(quality)
      const keepOriginal = kbps === undefined ||
        (lossyCodecs.has(track.codec ?? "") && track.bitrate !== undefined && track.bitrate <= kbps)
      if (keepOriginal) {
        const url = yield* client.signedUrl("download", { id: track.id })
        return new TrackSource({
          body: { _tag: "HttpBody", url, headers: {} },
          container: containerOf(track.codec),
          sizeBytes: track.sizeBytes
        })
      }
      const url = yield* client.signedUrl("stream", { id: track.id, format: "mp3", maxBitRate: String(kbps) })
      // A transcode's size is known only once it is made, and it may differ from one request to the next.
      return new TrackSource({
        body: { _tag: "HttpBody", url, headers: {}, mediaTypes: mp3MediaTypes },
        container: "mp3",
        resumable: false,
        minBytes: transcodeFloor(track.durationSeconds, kbps)
      })
    }),
    cover: Effect.fn("SubsonicProvider.cover")(function*(track: Track, resolution: number) {
      const id = coverArt.get(track.id) ?? track.albumId ?? track.id
      const url = yield* client.signedUrl("getCoverArt", { id, size: String(Math.max(1, Math.round(resolution))) })
      return new CoverSource({ body: { _tag: "HttpBody", url, headers: {} }, mimeType: "image/jpeg" })
    }),
    lyrics: Effect.fn("SubsonicProvider.lyrics")(function*(track: Track) {
      if (!(yield* supportsLyrics)) return new Lyrics({})
      const list = yield* client.get("getLyricsBySongId", { id: track.id }, `lyrics of track ${track.id}`, "lyricsList", LyricsList)
        .pipe(Effect.catchTag("NotFoundError", () => Effect.succeed({ structuredLyrics: [] })))
      const all = list.structuredLyrics ?? []
      const synced = all.find((l) => l.synced === true && (l.line?.length ?? 0) > 0)
      const plain = all.find((l) => l.synced !== true && (l.line?.length ?? 0) > 0) ?? synced
      return new Lyrics(defined({
        synced: synced === undefined ? undefined : lrc(synced.line ?? [], synced.offset ?? 0),
        unsynced: plain === undefined ? undefined : (plain.line ?? []).map((line) => line.value).join("\n")
      }))
    })
  }
  return provider as SubsonicProvider
})

/** The provider for a configured server. */
export const configured = (settings: SubsonicSettings, http: HttpClient.HttpClient): Effect.Effect<Provider> =>
  fromClient(makeClient(settings, http))
