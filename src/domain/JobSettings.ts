import type { Quality } from "./Quality.js"

/** How one download job runs: the album and track levels, and what to fetch. */
export interface JobSettings {
  /** Albums (or playlists, or single tracks) in flight at once (A). */
  readonly albums: number
  /** Tracks in flight at once across the job (T). */
  readonly tracks: number
  /** Tracks in flight at once within one album (t). */
  readonly tracksPerAlbum: number
  readonly quality: Quality
}

export const defaultJobSettings: JobSettings = {
  albums: 3,
  tracks: 5,
  tracksPerAlbum: 5,
  quality: "lossless"
}
