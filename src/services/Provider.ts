import type * as Effect from "effect/Effect"
import type { Album } from "../domain/Album.js"
import type { Artist } from "../domain/Artist.js"
import type { CoverSource, Lyrics } from "../domain/Artwork.js"
import type { MediaKind, MediaRef } from "../domain/MediaRef.js"
import type { Playlist } from "../domain/Playlist.js"
import type { Quality } from "../domain/Quality.js"
import type { SearchResult } from "../domain/SearchResult.js"
import type { Track } from "../domain/Track.js"
import type { TrackSource } from "../domain/TrackSource.js"
import type { UsageError } from "../domain/UsageError.js"
import type { MusicApiError } from "./MusicApiError.js"

/** What a provider can do, as `lyra providers` lists it. */
export interface ProviderCapabilities {
  readonly kinds: ReadonlyArray<MediaKind>
  readonly search: boolean
  /** It fetches many tracks in one call, so track lookups are batched. */
  readonly batchTracks: boolean
  readonly cover: boolean
  readonly lyrics: boolean
  /** The URL forms `parseUrl` accepts, for help texts. */
  readonly urlForms: ReadonlyArray<string>
}

/**
 * One music service, shaped like an OrpheusDL module. Providers make raw calls;
 * MusicApi adds rate limiting, retries, request batching and caching around them.
 */
export interface Provider {
  readonly name: string
  readonly description: string
  readonly capabilities: ProviderCapabilities
  readonly parseUrl: (url: string) => MediaRef | undefined
  readonly track: (id: string) => Effect.Effect<Track, MusicApiError>
  /** A batch lookup; answers in any order, missing ids are simply absent. */
  readonly tracks?: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Track>, MusicApiError>
  readonly album: (id: string) => Effect.Effect<Album, MusicApiError>
  readonly artist: (id: string) => Effect.Effect<Artist, MusicApiError>
  readonly playlist: (id: string) => Effect.Effect<Playlist, MusicApiError>
  readonly search: (
    kind: MediaKind,
    query: string,
    limit: number
  ) => Effect.Effect<ReadonlyArray<SearchResult>, MusicApiError>
  readonly source: (track: Track, quality: Quality) => Effect.Effect<TrackSource, MusicApiError>
  /** The cover of a track's album, about `resolution` pixels square where the service can size it (`capabilities.cover`). */
  readonly cover?: (track: Track, resolution: number) => Effect.Effect<CoverSource, MusicApiError>
  /** A track's lyrics (`capabilities.lyrics`). */
  readonly lyrics?: (track: Track) => Effect.Effect<Lyrics, MusicApiError>
  /** `source` only signs a URL, with no call to the service, so it takes no API admission. */
  readonly localSource?: boolean
  /** Fails when the provider cannot be used at all (e.g. it is not configured); checked when an input names it. */
  readonly ready?: Effect.Effect<void, UsageError>
}
