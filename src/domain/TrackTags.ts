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

// C0 controls but tab, line feed and carriage return: a NUL splits an ID3v2.4 text into several values.
const controls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g

const clean = (text: string): string => text.replace(controls, "")

const cleanSome = (text: string | undefined) => text === undefined ? undefined : clean(text)

const cleanAll = (texts: ReadonlyArray<string> | undefined) => texts?.map(clean).filter((text) => text !== "")

/**
 * The tags with control characters taken out of every text: they carry no
 * meaning in a title, and a format may read them as separators. Everything
 * else a service sends (marks, emoji, right-to-left text, any length) stays.
 */
export const cleanTags = (tags: TrackTags): TrackTags => ({
  ...tags,
  title: clean(tags.title),
  artists: cleanAll(tags.artists) ?? [],
  album: clean(tags.album),
  albumArtist: cleanSome(tags.albumArtist),
  date: cleanSome(tags.date),
  isrc: cleanSome(tags.isrc),
  upc: cleanSome(tags.upc),
  genres: cleanAll(tags.genres),
  copyright: cleanSome(tags.copyright),
  composer: cleanSome(tags.composer),
  label: cleanSome(tags.label),
  lyrics: cleanSome(tags.lyrics)
})
