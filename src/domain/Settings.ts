import { Quality } from "./Quality.js"

/**
 * The library settings, with OrpheusDL's names and meanings (its
 * `settings.json`, section `global`). Flags override them; `download_path`
 * becomes the library root and `download_quality` the job's quality.
 */
export interface Settings {
  // general
  readonly downloadPath: string
  readonly downloadQuality: Quality
  /** A folder per service (e.g. `Sim/`) at the top of the library. */
  readonly sourceSubdirectories: boolean
  // artist_downloading
  /** Also download the albums an artist is only credited on. */
  readonly returnCreditedAlbums: boolean
  /** Skip an artist's loose tracks that one of its albums already holds. */
  readonly separateTracksSkipDownloaded: boolean
  readonly filterCollectorsEditions: boolean
  readonly filterLiveRecordings: boolean
  /** Skip albums whose artist is not the one asked for. */
  readonly filterOtherArtists: boolean
  // formatting
  readonly albumFormat: string
  readonly playlistFormat: string
  readonly trackFilenameFormat: string
  readonly singleFullPathFormat: string
  readonly enableZfill: boolean
  readonly forceAlbumFormat: boolean
  // covers
  readonly embedCover: boolean
  /** The embedded cover's size in pixels, where the provider can size its covers. */
  readonly mainResolution: number
  /** Save the album cover as `cover.jpg` beside its tracks. */
  readonly saveExternal: boolean
  /** `cover.jpg`'s size in pixels, where the provider can size its covers. */
  readonly externalResolution: number
  // lyrics
  readonly embedLyrics: boolean
  /** Embed the synced lyrics instead of the plain ones (needs `embed_lyrics`). */
  readonly embedSyncedLyrics: boolean
  /** Save synced lyrics as a `.lrc` beside the track. */
  readonly saveSyncedLyrics: boolean
}

/** OrpheusDL's defaults, except the library folder and the quality, which keep lyra's. */
export const defaultSettings: Settings = {
  downloadPath: "./library",
  downloadQuality: "lossless",
  sourceSubdirectories: false,
  returnCreditedAlbums: true,
  separateTracksSkipDownloaded: true,
  filterCollectorsEditions: false,
  filterLiveRecordings: false,
  filterOtherArtists: false,
  albumFormat: "{name}{explicit}",
  playlistFormat: "{name}{explicit}",
  trackFilenameFormat: "{track_number}. {name}",
  singleFullPathFormat: "{name}",
  enableZfill: true,
  forceAlbumFormat: false,
  embedCover: true,
  mainResolution: 1400,
  saveExternal: false,
  externalResolution: 3000,
  embedLyrics: true,
  embedSyncedLyrics: false,
  saveSyncedLyrics: true
}

/** Variables of `track_filename_format` and `single_full_path_format` (OrpheusDL's, then lyra's few extra). */
export const trackVariables = [
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
  "bit_depth",
  "artist",
  "artists",
  "id",
  "composer",
  "label",
  "genres"
] as const

/** Variables of `album_format`. */
export const albumVariables = [
  "name",
  "id",
  "artist",
  "artist_id",
  "release_year",
  "upc",
  "explicit",
  "quality",
  "artist_initials",
  "label"
] as const

/** Variables of `playlist_format`; `{tracks}` is the number of tracks. */
export const playlistVariables = ["name", "creator", "tracks", "release_year", "explicit", "creator_id", "id"] as const

export type SettingKind =
  | { readonly _tag: "Boolean" }
  | { readonly _tag: "Text" }
  | { readonly _tag: "Quality" }
  | { readonly _tag: "Pixels" }
  | { readonly _tag: "Template"; readonly variables: ReadonlyArray<string> }

/** One setting: where it sits in OrpheusDL's file, and its field here. */
export interface SettingSpec {
  readonly section: string
  readonly key: string
  readonly field: keyof Settings
  readonly kind: SettingKind
}

const boolean: SettingKind = { _tag: "Boolean" }
const template = (variables: ReadonlyArray<string>): SettingKind => ({ _tag: "Template", variables })

/** Every setting lyra reads, by OrpheusDL section and name. */
export const settingSpecs: ReadonlyArray<SettingSpec> = [
  { section: "general", key: "download_path", field: "downloadPath", kind: { _tag: "Text" } },
  { section: "general", key: "download_quality", field: "downloadQuality", kind: { _tag: "Quality" } },
  { section: "general", key: "source_subdirectories", field: "sourceSubdirectories", kind: boolean },
  { section: "artist_downloading", key: "return_credited_albums", field: "returnCreditedAlbums", kind: boolean },
  {
    section: "artist_downloading",
    key: "separate_tracks_skip_downloaded",
    field: "separateTracksSkipDownloaded",
    kind: boolean
  },
  { section: "artist_downloading", key: "filter_collectors_editions", field: "filterCollectorsEditions", kind: boolean },
  { section: "artist_downloading", key: "filter_live_recordings", field: "filterLiveRecordings", kind: boolean },
  { section: "artist_downloading", key: "filter_other_artists", field: "filterOtherArtists", kind: boolean },
  { section: "formatting", key: "album_format", field: "albumFormat", kind: template(albumVariables) },
  { section: "formatting", key: "playlist_format", field: "playlistFormat", kind: template(playlistVariables) },
  { section: "formatting", key: "track_filename_format", field: "trackFilenameFormat", kind: template(trackVariables) },
  {
    section: "formatting",
    key: "single_full_path_format",
    field: "singleFullPathFormat",
    kind: template(trackVariables)
  },
  { section: "formatting", key: "enable_zfill", field: "enableZfill", kind: boolean },
  { section: "formatting", key: "force_album_format", field: "forceAlbumFormat", kind: boolean },
  { section: "covers", key: "embed_cover", field: "embedCover", kind: boolean },
  { section: "covers", key: "main_resolution", field: "mainResolution", kind: { _tag: "Pixels" } },
  { section: "covers", key: "save_external", field: "saveExternal", kind: boolean },
  { section: "covers", key: "external_resolution", field: "externalResolution", kind: { _tag: "Pixels" } },
  { section: "lyrics", key: "embed_lyrics", field: "embedLyrics", kind: boolean },
  { section: "lyrics", key: "embed_synced_lyrics", field: "embedSyncedLyrics", kind: boolean },
  { section: "lyrics", key: "save_synced_lyrics", field: "saveSyncedLyrics", kind: boolean }
]

/**
 * Settings OrpheusDL has and lyra does not use: accepted and reported as
 * ignored, so that a real `settings.json` imports. `*` takes a whole section.
 */
export const ignoredSettings: Readonly<Record<string, ReadonlyArray<string>>> = {
  general: ["search_limit"],
  formatting: ["artist_format"],
  codecs: ["*"],
  module_defaults: ["*"],
  covers: ["main_compression", "external_format", "external_compression", "save_animated_cover"],
  playlist: ["*"],
  advanced: ["*"]
}

/** The quality tiers, as `download_quality` takes them. */
export const qualities: ReadonlyArray<string> = Quality.literals
