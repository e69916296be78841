import type { Album } from "../domain/Album.js"
import type { PathTemplate } from "../domain/PathTemplate.js"
import { parseTemplate, renderTemplate } from "../domain/PathTemplate.js"
import type { Playlist } from "../domain/Playlist.js"
import type { Settings } from "../domain/Settings.js"
import { albumVariables, playlistVariables, trackVariables } from "../domain/Settings.js"
import type { Track } from "../domain/Track.js"

/**
 * Where tracks go, OrpheusDL's way: `album_format`, `playlist_format`,
 * `track_filename_format` and `single_full_path_format`, with its variables,
 * zero padding, ` [E]` markers, `CD n` folders for multi-disc albums, a folder
 * per artist when a whole artist is downloaded, and a folder per service with
 * `source_subdirectories`. Plans are display names; SafePath sanitizes them.
 */
export interface TrackPlan {
  /** Folders, then the file stem; a template's `/` makes folders. */
  readonly segments: ReadonlyArray<string>
  /** The album's folder, where `cover.jpg` goes; none for loose tracks and playlists. */
  readonly albumFolder?: ReadonlyArray<string> | undefined
}

type Values = Record<string, string | undefined>

const templates = new Map<ReadonlyArray<string>, Map<string, PathTemplate>>()

/** Templates are checked when settings are read; one that still fails renders as its source text. */
const template = (source: string, variables: ReadonlyArray<string>): PathTemplate => {
  let known = templates.get(variables)
  if (known === undefined) {
    known = new Map()
    templates.set(variables, known)
  }
  const cached = known.get(source)
  if (cached !== undefined) return cached
  const parsed = parseTemplate(source, variables)
  const result: PathTemplate = typeof parsed === "string"
    ? { source, parts: [{ _tag: "Literal", text: source }], variables: [] }
    : parsed
  known.set(source, result)
  return result
}

/** A template's text, split into folders at `/`; empty parts (`a//b`, a leading `/`) are dropped. */
const render = (source: string, variables: ReadonlyArray<string>, values: Values): ReadonlyArray<string> =>
  renderTemplate(template(source, variables), values).split("/").filter((part) => part.trim() !== "")

/** A value never makes folders: only the template's own `/` do. */
const value = (text: string | number | undefined): string | undefined =>
  text === undefined ? undefined : String(text).replace(/[/\\]/g, "_")

const explicitMark = (explicit: boolean | undefined) => explicit === true ? " [E]" : ""

const kiloHertz = (hertz: number | undefined) => hertz === undefined ? undefined : String(hertz / 1000)

/** ` [96kHz 24bit]` for hi-res audio, as OrpheusDL's `{quality}`; nothing for CD quality or less. */
export const qualityMark = (track: Track | undefined): string => {
  if (track?.bitDepth === undefined || track.sampleRate === undefined) return ""
  return track.bitDepth > 16 || track.sampleRate > 44_100 ? ` [${kiloHertz(track.sampleRate)}kHz ${track.bitDepth}bit]` : ""
}

/** `{artist_initials}`: the first letter of the artist, A to Z, or `#`. */
export const artistInitials = (artist: string): string => {
  const first = artist.normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim().charAt(0).toUpperCase()
  return /^[A-Z]$/.test(first) ? first : "#"
}

/** The service's folder name for `source_subdirectories`, e.g. `Sim`. */
export const sourceFolder = (provider: string): string => provider.charAt(0).toUpperCase() + provider.slice(1)

/** How track numbers render: OrpheusDL pads to the digits of the track count, and not at all for a single. */
interface Numbering {
  readonly trackNumber: number | undefined
  readonly totalTracks: number | undefined
  readonly width: number
}

const trackValues = (settings: Settings, track: Track, numbering: Numbering): Values => {
  const pad = (n: number | undefined) =>
    n === undefined ? undefined : settings.enableZfill ? String(n).padStart(numbering.width, "0") : String(n)
  return {
    name: value(track.title),
    album: value(track.album),
    album_artist: value(track.albumArtist),
    album_id: value(track.albumId),
    track_number: pad(numbering.trackNumber),
    total_tracks: pad(numbering.totalTracks),
    disc_number: pad(track.discNumber),
    total_discs: pad(track.totalDiscs),
    release_date: value(track.releaseDate),
    release_year: value(track.releaseYear),
    artist_id: value(track.artistId),
    isrc: value(track.isrc),
    upc: value(track.upc),
    explicit: explicitMark(track.explicit),
    copyright: value(track.copyright),
    codec: value(track.codec),
    sample_rate: kiloHertz(track.sampleRate),
    bit_depth: value(track.bitDepth),
    artist: value(track.artists[0]),
    artists: value(track.artists.join(", ")),
    id: value(track.id),
    composer: value(track.composer),
    label: value(track.label),
    genres: value(track.genres?.join(", "))
  }
}

const albumValues = (album: Album, first: Track | undefined): Values => ({
  name: value(album.title),
  id: value(album.id),
  artist: value(album.artist),
  artist_id: value(album.artistId),
  release_year: value(album.releaseYear),
  upc: value(album.upc),
  explicit: explicitMark(album.explicit),
  quality: qualityMark(first),
  artist_initials: artistInitials(album.artist),
  label: value(album.label)
})

/** An album's values from one of its tracks, for `force_album_format` where the album itself was not fetched. */
const albumValuesOfTrack = (track: Track): Values => {
  const artist = track.albumArtist ?? track.artists[0] ?? ""
  return {
    name: value(track.album),
    id: value(track.albumId),
    artist: value(artist),
    artist_id: value(track.artistId),
    release_year: value(track.releaseYear),
    upc: value(track.upc),
    // The album's mark, so that a track met in a playlist files into the same folder as its album.
    explicit: explicitMark(track.albumExplicit ?? track.explicit),
    quality: qualityMark(track),
    artist_initials: artistInitials(artist),
    label: value(track.label)
  }
}

const digits = (n: number | undefined) => String(n ?? 1).length

/** `CD n` for a track of a multi-disc album, as OrpheusDL files them. */
const discFolder = (track: Track): ReadonlyArray<string> =>
  track.totalDiscs !== undefined && track.totalDiscs > 1 && track.discNumber !== undefined
    ? [`CD ${track.discNumber}`]
    : []

/** Where an album's own numbering files a track inside `folder`: the forced album layout. */
const albumTrack = (settings: Settings, folder: ReadonlyArray<string>, track: Track): TrackPlan => ({
  segments: [
    ...folder,
    ...discFolder(track),
    ...render(
      settings.trackFilenameFormat,
      trackVariables,
      trackValues(settings, track, {
        trackNumber: track.trackNumber,
        totalTracks: track.totalTracks,
        width: digits(track.totalTracks)
      })
    )
  ],
  albumFolder: folder
})

const base = (settings: Settings, provider: string): ReadonlyArray<string> =>
  settings.sourceSubdirectories ? [sourceFolder(provider)] : []

export interface AlbumLayoutOptions {
  /** The artist whose discography this album is part of: its tracks go under a folder named after it. */
  readonly artist?: string | undefined
}

/**
 * Where the tracks of an album download go: `album_format`, then
 * `track_filename_format` numbered in album order (1..n across discs, padded to
 * the digits of n), with a `CD n` folder per disc. An album of one track is
 * filed as a single (`single_full_path_format`), unless `force_album_format`.
 */
export const albumLayout = (
  settings: Settings,
  album: Album,
  tracks: ReadonlyArray<Track>,
  options: AlbumLayoutOptions = {}
): (track: Track, index: number) => TrackPlan => {
  const root = [...base(settings, album.provider), ...(options.artist === undefined ? [] : [value(options.artist)!])]
  const count = Math.max(tracks.length, album.trackIds.length)
  if (count <= 1 && !settings.forceAlbumFormat) {
    return (track) => ({
      segments: [
        ...root,
        ...render(
          settings.singleFullPathFormat,
          trackVariables,
          trackValues(settings, track, { trackNumber: 1, totalTracks: 1, width: 1 })
        )
      ]
    })
  }
  const folder = [...root, ...render(settings.albumFormat, albumVariables, albumValues(album, tracks[0]))]
  if (settings.forceAlbumFormat) return (track) => albumTrack(settings, folder, track)
  return (track, index) => ({
    segments: [
      ...folder,
      ...discFolder(track),
      ...render(
        settings.trackFilenameFormat,
        trackVariables,
        trackValues(settings, track, { trackNumber: index + 1, totalTracks: count, width: digits(count) })
      )
    ],
    albumFolder: folder
  })
}

const playlistValues = (playlist: Playlist, count: number): Values => ({
  name: value(playlist.name),
  creator: value(playlist.creator),
  tracks: String(count),
  release_year: value(playlist.releaseYear),
  explicit: explicitMark(playlist.tracks?.some((track) => track.explicit === true)),
  creator_id: undefined,
  id: value(playlist.id)
})

/**
 * Where the tracks of a playlist go: `playlist_format`, then
 * `track_filename_format` numbered in playlist order. With
 * `force_album_format`, each track goes to its album's folder inside the
 * playlist's, numbered as on its album.
 */
export const playlistLayout = (
  settings: Settings,
  playlist: Playlist,
  count: number
): (track: Track, index: number) => TrackPlan => {
  const folder = [
    ...base(settings, playlist.provider),
    ...render(settings.playlistFormat, playlistVariables, playlistValues(playlist, count))
  ]
  if (settings.forceAlbumFormat) {
    return (track) =>
      albumTrack(settings, [...folder, ...render(settings.albumFormat, albumVariables, albumValuesOfTrack(track))], track)
  }
  const format = count === 1 ? settings.singleFullPathFormat : settings.trackFilenameFormat
  return (track, index) => ({
    segments: [
      ...folder,
      ...render(
        format,
        trackVariables,
        trackValues(settings, track, { trackNumber: index + 1, totalTracks: count, width: digits(count) })
      )
    ]
  })
}

/**
 * Where a track named on its own goes: `single_full_path_format` (numbers
 * unpadded), or its album's folder with `force_album_format`. An artist's
 * loose tracks go in the artist's folder.
 */
export const singleLayout = (settings: Settings, track: Track, options: AlbumLayoutOptions = {}): TrackPlan => {
  const root = [...base(settings, track.provider), ...(options.artist === undefined ? [] : [value(options.artist)!])]
  if (settings.forceAlbumFormat) {
    return albumTrack(settings, [...root, ...render(settings.albumFormat, albumVariables, albumValuesOfTrack(track))], track)
  }
  return {
    segments: [
      ...root,
      ...render(
        settings.singleFullPathFormat,
        trackVariables,
        trackValues(settings, track, { trackNumber: track.trackNumber, totalTracks: track.totalTracks, width: 1 })
      )
    ]
  }
}

// -- the fixed layout before templates ------------------------------------------------------------

const number = (n: number) => String(n).padStart(2, "0")

/** @deprecated The fixed layout before templates (`<artist>/<album>/<NN>. <title>`); use `albumLayout`. */
export const albumTrackSegments = (
  albumArtist: string,
  albumTitle: string,
  track: Track,
  index: number
): ReadonlyArray<string> => [albumArtist, albumTitle, `${number(track.trackNumber ?? index + 1)}. ${track.title}`]

/** @deprecated The fixed layout before templates; use `singleLayout`. */
export const singleTrackSegments = (track: Track): ReadonlyArray<string> =>
  albumTrackSegments(track.albumArtist ?? track.artists[0] ?? "Unknown Artist", track.album, track, 0)

/** @deprecated The fixed layout before templates; use `playlistLayout`. */
export const playlistTrackSegments = (playlistName: string, track: Track, index: number): ReadonlyArray<string> => [
  playlistName,
  `${number(index + 1)}. ${track.artists.join(", ")} - ${track.title}`
]
