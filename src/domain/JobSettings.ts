import type { Quality } from "./Quality.js"
import type { Settings } from "./Settings.js"

/** How one download job runs: the album and track levels, and what to fetch. */
export interface JobSettings {
  /** Albums (or playlists, or single tracks) in flight at once (A). */
  readonly albums: number
  /** Tracks in flight at once across the job (T). */
  readonly tracks: number
  /** Tracks in flight at once within one album (t). */
  readonly tracksPerAlbum: number
  readonly quality: Quality
  /** Download again what the archive says is done. */
  readonly force: boolean
  /** Layout, filters, covers and lyrics (OrpheusDL's settings); OrpheusDL's defaults when absent. */
  readonly library?: Settings | undefined
}

export const defaultJobSettings: JobSettings = {
  albums: 3,
  tracks: 5,
  tracksPerAlbum: 5,
  quality: "lossless",
  force: false
}
