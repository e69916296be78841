import type { Track } from "./Track.js"

/**
 * What lyra writes into a file: plain data, so it crosses to a worker thread
 * as it is. Absent fields are left out of the file.
 */
export interface TrackTags {
  readonly title: string
  readonly artists: ReadonlyArray<string>
  readonly album: string
  readonly albumArtist?: string | undefined
  readonly trackNumber?: number | undefined
  readonly totalTracks?: number | undefined
  readonly discNumber?: number | undefined
  readonly totalDiscs?: number | undefined
  /** `YYYY-MM-DD`, or just the year. */
  readonly date?: string | undefined
  readonly isrc?: string | undefined
  readonly upc?: string | undefined
  readonly genres?: ReadonlyArray<string> | undefined
  readonly copyright?: string | undefined
  readonly composer?: string | undefined
  readonly label?: string | undefined
  readonly lyrics?: string | undefined
}

/** A track's tags from its metadata, with the lyrics to embed, if any. */
export const tagsOf = (track: Track, lyrics?: string): TrackTags => ({
  title: track.title,
  artists: track.artists,
  album: track.album,
  albumArtist: track.albumArtist,
  trackNumber: track.trackNumber,
  totalTracks: track.totalTracks,
  discNumber: track.discNumber,
  totalDiscs: track.totalDiscs,
  date: track.releaseDate ?? (track.releaseYear === undefined ? undefined : String(track.releaseYear)),
  isrc: track.isrc,
  upc: track.upc,
  genres: track.genres,
  copyright: track.copyright,
  composer: track.composer,
  label: track.label,
  lyrics
})
