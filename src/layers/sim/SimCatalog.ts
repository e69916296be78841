import { Album } from "../../domain/Album.js"
import { Artist } from "../../domain/Artist.js"
import type { MediaKind } from "../../domain/MediaRef.js"
import { Playlist } from "../../domain/Playlist.js"
import { SearchResult } from "../../domain/SearchResult.js"
import { Track } from "../../domain/Track.js"
import { hash32, SimRng } from "./SimHash.js"
import * as Words from "./SimWords.js"

/** An inclusive integer range. */
export interface Range {
  readonly min: number
  readonly max: number
}

/** How big the simulated catalog is and what its tracks weigh. */
export interface CatalogShape {
  readonly artists: number
  readonly albumsPerArtist: Range
  readonly tracksPerAlbum: Range
  readonly trackSeconds: Range
  /** Bytes of audio per second of track: sizes follow durations. */
  readonly audioBytesPerSecond: number
  readonly playlists: number
  readonly playlistTracks: Range
  /** Artist 1's fixed shape, so that demos and tests know what `sim:artist:1` holds. */
  readonly firstArtist: { readonly albums: number; readonly tracksPerAlbum: number }
  /** The share of artists (with 3+ albums, not artist 1) whose last album is a "best of" the others. */
  readonly compilationRate: number
}

/** 50 artists, ~2,000 tracks of 0.5-1.2 MB (a low-bitrate preview, so demo runs are quick). */
export const defaultShape: CatalogShape = {
  artists: 50,
  albumsPerArtist: { min: 2, max: 6 },
  tracksPerAlbum: { min: 6, max: 14 },
  trackSeconds: { min: 150, max: 345 },
  audioBytesPerSecond: 3_500,
  playlists: 20,
  playlistTracks: { min: 10, max: 40 },
  firstArtist: { albums: 4, tracksPerAlbum: 10 },
  compilationRate: 0.25
}

/** The newest release year; fixed, since the catalog must not depend on the wall clock. */
const lastYear = 2025

interface ArtistInfo {
  readonly id: number
  readonly name: string
  readonly albumCount: number
  readonly genres: ReadonlyArray<string>
  readonly label: string
  readonly country: string
  readonly registrant: string
  readonly composer: string
  readonly explicitRate: number
  readonly hasCompilation: boolean
  readonly years: ReadonlyArray<number>
  /** Studio album titles, distinct so that albums never collide on disk. */
  readonly titles: ReadonlyArray<string>
}

interface AlbumInfo {
  readonly id: number
  readonly artist: ArtistInfo
  /** 1-based position in the artist's discography. */
  readonly index: number
  readonly title: string
  readonly year: number
  readonly releaseDate: string
  readonly compilation: boolean
  readonly trackIds: ReadonlyArray<number>
  /** Titles of its own tracks (none for a compilation), distinct within the album. */
  readonly trackTitles: ReadonlyArray<string>
  readonly discs: number
  readonly bitDepth: number
  readonly sampleRate: number
}

interface TrackInfo {
  readonly id: number
  readonly album: AlbumInfo
  readonly position: number
  readonly title: string
}

const digits = (n: number): number => String(Math.max(1, Math.floor(n))).length

/** Ids are plain positive decimals; anything else names nothing. */
const parseId = (id: string): number | undefined => /^[1-9][0-9]{0,14}$/.test(id) ? Number(id) : undefined

/** UPC-A: 11 digits and the standard check digit. */
const upcOf = (albumId: number): string => {
  const body = `1${String(albumId).padStart(10, "0").slice(-10)}`
  let sum = 0
  for (let i = 0; i < body.length; i++) sum += Number(body[i]) * (i % 2 === 0 ? 3 : 1)
  return `${body}${(10 - (sum % 10)) % 10}`
}

/** `count` draws, redrawn (a few times, then numbered) until distinct. */
const distinct = (count: number, draw: () => string): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const out: Array<string> = []
  for (let i = 0; i < count; i++) {
    let value = draw()
    for (let retry = 0; seen.has(value) && retry < 8; retry++) value = draw()
    if (seen.has(value)) value = `${value} ${i + 1}`
    seen.add(value)
    out.push(value)
  }
  return out
}

const matcher = (query: string): (haystack: string) => boolean => {
  const terms = query.toLowerCase().split(/\s+/).filter((term) => term.length > 0)
  return (haystack) => {
    const lower = haystack.toLowerCase()
    return terms.every((term) => lower.includes(term))
  }
}

/**
 * A deterministic catalog from a seed and a shape, derived entity by entity from
 * hash(seed, kind, id). Ids encode the hierarchy in decimal blocks, so any id is
 * decoded in O(1): album = artist * albumBlock + n, track = album * trackBlock + n.
 * With the default shape, artist 1's albums are 11..14 and album 11's tracks 1101..1110.
 * Entities are built without validation (a simulation builds one per lookup);
 * the tests validate what the generator makes against the schemas instead.
 */
export class SimCatalog {
  readonly albumBlock: number
  readonly trackBlock: number
  private readonly artists = new Map<number, ArtistInfo>()
  private readonly albums = new Map<number, AlbumInfo>()

  constructor(readonly seed: number, readonly shape: CatalogShape) {
    this.albumBlock = 10 ** digits(Math.max(shape.albumsPerArtist.max, shape.firstArtist.albums))
    this.trackBlock = 10 ** digits(Math.max(shape.tracksPerAlbum.max, shape.firstArtist.tracksPerAlbum))
  }

  artist(id: string): Artist | undefined {
    const n = parseId(id)
    const info = n === undefined ? undefined : this.artistInfo(n)
    if (info === undefined) return undefined
    const albumIds: Array<string> = []
    for (let k = 1; k <= info.albumCount; k++) albumIds.push(String(info.id * this.albumBlock + k))
    return new Artist({ provider: "sim", id: String(info.id), name: info.name, albumIds, trackIds: [] }, true)
  }

  /** Lists track ids only, like OrpheusDL's modules, so a client must look the tracks up. */
  album(id: string): Album | undefined {
    const n = parseId(id)
    const info = n === undefined ? undefined : this.albumInfo(n)
    if (info === undefined) return undefined
    const { artist } = info
    return new Album({
      provider: "sim",
      id: String(info.id),
      title: info.title,
      artist: artist.name,
      artistId: String(artist.id),
      trackIds: info.trackIds.map(String),
      releaseYear: info.year,
      explicit: this.isExplicitAlbum(info),
      upc: upcOf(info.id),
      label: artist.label,
      genres: artist.genres
    }, true)
  }

  track(id: string): Track | undefined {
    const n = parseId(id)
    const info = n === undefined ? undefined : this.trackInfo(n)
    return info === undefined ? undefined : this.toTrack(info)
  }

  playlist(id: string): Playlist | undefined {
    const n = parseId(id)
    if (n === undefined || n > this.shape.playlists) return undefined
    const rng = new SimRng(this.seed, "playlist", n)
    const count = rng.int(this.shape.playlistTracks.min, this.shape.playlistTracks.max)
    const picked = new Set<number>()
    // Playlist 1 leans on artist 1, so `sim:artist:1 sim:playlist:1` meets the same tracks twice.
    for (let attempt = 0; picked.size < count && attempt < count * 4; attempt++) {
      const artistId = n === 1 && attempt % 2 === 0 ? 1 : rng.int(1, this.shape.artists)
      const artist = this.artistInfo(artistId)
      if (artist === undefined) continue
      const album = this.albumInfo(artistId * this.albumBlock + rng.int(1, artist.albumCount))
      if (album === undefined || album.trackIds.length === 0) continue
      picked.add(rng.pick(album.trackIds))
    }
    const genre = rng.pick(Words.genres)
    const creator = rng.pick(Words.curators)
    return new Playlist({
      provider: "sim",
      id: String(n),
      name: this.playlistName(n),
      creator,
      trackIds: [...picked].map(String),
      description: `${genre} and more, picked by ${creator}`
    }, true)
  }

  /** Every query term must occur in the name (or the artist's name), ignoring case; catalog order. */
  search(kind: MediaKind, query: string, limit: number): ReadonlyArray<SearchResult> {
    const matches = matcher(query)
    const results: Array<SearchResult> = []
    const full = () => results.length >= limit
    const push = (id: number, name: string, artists: ReadonlyArray<string>, year?: number) =>
      results.push(
        new SearchResult({
          provider: "sim",
          kind,
          id: String(id),
          name,
          artists,
          ...(year === undefined ? {} : { year })
        })
      )
    if (kind === "playlist") {
      for (let n = 1; n <= this.shape.playlists && !full(); n++) {
        const name = this.playlistName(n)
        if (matches(name)) push(n, name, [])
      }
      return results
    }
    for (let a = 1; a <= this.shape.artists && !full(); a++) {
      const artist = this.artistInfo(a)
      if (artist === undefined) continue
      if (kind === "artist") {
        if (matches(artist.name)) push(a, artist.name, [])
        continue
      }
      for (let k = 1; k <= artist.albumCount && !full(); k++) {
        const album = this.albumInfo(a * this.albumBlock + k)
        if (album === undefined) continue
        if (kind === "album") {
          if (matches(`${album.title} ${artist.name}`)) push(album.id, album.title, [artist.name], album.year)
          continue
        }
        if (album.compilation) continue // its tracks belong to, and are found in, their own albums
        for (const trackId of album.trackIds) {
          const track = this.trackInfo(trackId)
          if (track !== undefined && matches(`${track.title} ${artist.name}`)) {
            push(trackId, track.title, [artist.name], album.year)
            if (full()) break
          }
        }
      }
    }
    return results
  }

  // -- derivation --------------------------------------------------------------------------

  private artistInfo(n: number): ArtistInfo | undefined {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.shape.artists) return undefined
    const cached = this.artists.get(n)
    if (cached !== undefined) return cached
    const rng = new SimRng(this.seed, "artist", n)
    const first = rng.pick(Words.firstNames)
    const last = rng.pick(Words.lastNames)
    const solo = rng.chance(0.4)
    const name = solo ? `${first} ${last}` : this.bandName(rng, first)
    const shape = this.shape
    const albumCount = n === 1 ? shape.firstArtist.albums : rng.int(shape.albumsPerArtist.min, shape.albumsPerArtist.max)
    const genre = rng.pick(Words.genres)
    const second = rng.pick(Words.genres)
    const genres = rng.chance(0.5) && second !== genre ? [genre, second] : [genre]
    const label = rng.pick(Words.labels)
    const country = rng.pick(Words.countries)
    const registrant = (hash32(this.seed, "registrant", n) % 46_656).toString(36).toUpperCase().padStart(3, "0")
    const explicitRate = rng.chance(0.3) ? 0.35 : 0.02
    const hasCompilation = n !== 1 && albumCount >= 3 && rng.chance(shape.compilationRate)
    // Releases every 1-4 years from a debut that leaves room for the whole discography.
    let year = rng.int(1965, Math.max(1965, lastYear - albumCount * 3))
    const years: Array<number> = []
    for (let k = 1; k <= albumCount; k++) {
      years.push(Math.min(lastYear, year))
      year += rng.int(1, 4)
    }
    const titles = distinct(albumCount, () => this.albumTitle(rng))
    const info: ArtistInfo = {
      id: n,
      name,
      albumCount,
      genres,
      label,
      country,
      registrant,
      composer: solo ? name : `${first} ${last}`,
      explicitRate,
      hasCompilation,
      years,
      titles
    }
    this.remember(this.artists, n, info)
    return info
  }

  private albumInfo(n: number): AlbumInfo | undefined {
    if (!Number.isSafeInteger(n)) return undefined
    const cached = this.albums.get(n)
    if (cached !== undefined) return cached
    const artist = this.artistInfo(Math.floor(n / this.albumBlock))
    const index = n % this.albumBlock
    if (artist === undefined || index < 1 || index > artist.albumCount) return undefined
    const rng = new SimRng(this.seed, "album", n)
    const compilation = artist.hasCompilation && index === artist.albumCount
    const year = artist.years[index - 1] ?? lastYear
    let title: string
    let trackIds: Array<number>
    let trackTitles: ReadonlyArray<string> = []
    if (compilation) {
      title = rng.pick(Words.compilationTitles).replace("%", artist.name)
      // A few tracks from each earlier album: these tracks are shared with their own albums.
      trackIds = []
      for (let k = 1; k < index; k++) {
        const source = this.albumInfo(artist.id * this.albumBlock + k)
        if (source === undefined) continue
        const picks = Math.min(source.trackIds.length, rng.int(1, 3))
        const start = rng.int(0, source.trackIds.length - picks)
        trackIds.push(...source.trackIds.slice(start, start + picks))
      }
      trackIds = trackIds.slice(0, Math.max(this.shape.tracksPerAlbum.max, this.shape.firstArtist.tracksPerAlbum))
    } else {
      title = artist.titles[index - 1] ?? this.albumTitle(rng)
      const count = artist.id === 1
        ? this.shape.firstArtist.tracksPerAlbum
        : rng.int(this.shape.tracksPerAlbum.min, this.shape.tracksPerAlbum.max)
      trackIds = []
      for (let t = 1; t <= count; t++) trackIds.push(n * this.trackBlock + t)
      trackTitles = distinct(count, () => this.trackTitle(rng))
    }
    const hiRes = rng.chance(0.3)
    const month = rng.int(1, 12)
    const day = rng.int(1, 28)
    const info: AlbumInfo = {
      id: n,
      artist,
      index,
      title,
      year,
      releaseDate: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      compilation,
      trackIds,
      trackTitles,
      discs: !compilation && trackIds.length >= 12 && rng.chance(0.25) ? 2 : 1,
      bitDepth: hiRes ? 24 : 16,
      sampleRate: hiRes ? rng.pick([48_000, 96_000]) : 44_100
    }
    this.remember(this.albums, n, info)
    return info
  }

  private trackInfo(n: number): TrackInfo | undefined {
    if (!Number.isSafeInteger(n)) return undefined
    const album = this.albumInfo(Math.floor(n / this.trackBlock))
    const position = n % this.trackBlock
    if (album === undefined || album.compilation || position < 1 || position > album.trackIds.length) return undefined
    return { id: n, album, position, title: album.trackTitles[position - 1] ?? "" }
  }

  private toTrack(info: TrackInfo): Track {
    const { album } = info
    const { artist } = album
    const rng = new SimRng(this.seed, "track", info.id)
    const durationSeconds = rng.int(this.shape.trackSeconds.min, this.shape.trackSeconds.max)
    const artists = [artist.name]
    if (this.shape.artists > 1 && rng.chance(0.1)) {
      const other = rng.int(1, this.shape.artists - 1)
      const featured = this.artistInfo(other >= artist.id ? other + 1 : other)
      if (featured !== undefined) artists.push(featured.name)
    }
    const count = album.trackIds.length
    const split = Math.ceil(count / 2)
    const secondDisc = album.discs === 2 && info.position > split
    const isrcYear = String(album.year % 100).padStart(2, "0")
    const designation = String(info.id % 100_000).padStart(5, "0")
    return new Track({
      provider: "sim",
      id: String(info.id),
      title: info.title,
      artists,
      artistId: String(artist.id),
      album: album.title,
      albumId: String(album.id),
      albumArtist: artist.name,
      trackNumber: secondDisc ? info.position - split : info.position,
      totalTracks: album.discs === 2 ? (secondDisc ? count - split : split) : count,
      discNumber: secondDisc ? 2 : 1,
      totalDiscs: album.discs,
      releaseYear: album.year,
      releaseDate: album.releaseDate,
      durationSeconds,
      explicit: this.isExplicit(artist, info.id),
      albumExplicit: this.isExplicitAlbum(album),
      isrc: `${artist.country}${artist.registrant}${isrcYear}${designation}`,
      upc: upcOf(album.id),
      genres: artist.genres,
      composer: artist.composer,
      copyright: `℗ ${album.year} ${artist.label}`,
      label: artist.label,
      codec: "FLAC",
      bitDepth: album.bitDepth,
      sampleRate: album.sampleRate,
      bitrate: Math.round((this.shape.audioBytesPerSecond * 8) / 1000),
      sizeBytes: durationSeconds * this.shape.audioBytesPerSecond
    }, true)
  }

  /** An album is explicit when any of its tracks is. */
  private isExplicitAlbum(album: AlbumInfo): boolean {
    return album.trackIds.some((trackId) => this.isExplicit(album.artist, trackId))
  }

  private isExplicit(artist: ArtistInfo, trackId: number): boolean {
    return hash32(this.seed, "explicit", trackId) / 0x1_0000_0000 < artist.explicitRate
  }

  private bandName(rng: SimRng, first: string): string {
    switch (rng.int(0, 4)) {
      case 0:
        return `The ${rng.pick(Words.adjectives)} ${rng.pick(Words.pluralNouns)}`
      case 1:
        return `${first} & the ${rng.pick(Words.pluralNouns)}`
      case 2:
        return `${rng.pick(Words.adjectives)} ${rng.pick(Words.nouns)}`
      case 3:
        return `${rng.pick(Words.nouns)} ${rng.pick(Words.pluralNouns)}`
      default:
        return `The ${rng.pick(Words.pluralNouns)}`
    }
  }

  private albumTitle(rng: SimRng): string {
    switch (rng.int(0, 5)) {
      case 0:
        return `${rng.pick(Words.adjectives)} ${rng.pick(Words.nouns)}`
      case 1:
        return `The ${rng.pick(Words.nouns)}`
      case 2:
        return `${rng.pick(Words.nouns)} of ${rng.pick(Words.pluralNouns)}`
      case 3:
        return `Songs from the ${rng.pick(Words.nouns)}`
      case 4:
        return `${rng.pick(Words.verbs)} the ${rng.pick(Words.nouns)}`
      default:
        return rng.pick(Words.nouns)
    }
  }

  private trackTitle(rng: SimRng): string {
    const base = (() => {
      switch (rng.int(0, 6)) {
        case 0:
          return `${rng.pick(Words.adjectives)} ${rng.pick(Words.nouns)}`
        case 1:
          return `${rng.pick(Words.verbs)} the ${rng.pick(Words.nouns)}`
        case 2:
          return `${rng.pick(Words.nouns)} in the ${rng.pick(Words.nouns)}`
        case 3:
          return `Where the ${rng.pick(Words.pluralNouns)} Go`
        case 4:
          return `${rng.pick(Words.adjectives)} ${rng.pick(Words.pluralNouns)}`
        case 5:
          return `${rng.pick(Words.nouns)} Song`
        default:
          return rng.pick(Words.nouns)
      }
    })()
    const suffix = rng.next()
    return suffix < 0.04 ? `${base} (Interlude)` : suffix < 0.07 ? `${base}, Pt. II` : base
  }

  private playlistName(n: number): string {
    const rng = new SimRng(this.seed, "playlist-name", n)
    switch (rng.int(0, 3)) {
      case 0:
        return `${rng.pick(Words.genres)} ${rng.pick(Words.playlistNouns)}`
      case 1:
        return `${rng.pick(Words.adjectives)} ${rng.pick(Words.playlistNouns)}`
      case 2:
        return `Songs for a ${rng.pick(Words.adjectives)} ${rng.pick(Words.nouns)}`
      default:
        return `${rng.pick(Words.nouns)} ${rng.pick(Words.playlistNouns)}`
    }
  }

  /** A bounded memo: derivation is cheap, so dropping everything now and then is fine. */
  private remember<A>(memo: Map<number, A>, key: number, value: A): void {
    if (memo.size >= 10_000) memo.clear()
    memo.set(key, value)
  }
}
