import type * as Effect from "effect/Effect"
import * as Context from "effect/Context"
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
import type { ProviderCapabilities } from "./Provider.js"
import type { QuotaExhaustedError } from "./RateLimiterError.js"

export interface ProviderInfo {
  readonly name: string
  readonly description: string
  readonly capabilities: ProviderCapabilities
}

/** Every error a MusicApi call can end in once limits and retries are applied. */
export type ApiError = MusicApiError | QuotaExhaustedError | UsageError

/**
 * The music service API, routed to the provider named in each call. Calls are
 * Effect requests: identical calls in flight are shared, answers are cached for
 * the request cache in scope, and `track` lookups made together
 * (`Effect.forEach(..., { batching: true })`) are batched where the provider can.
 */
export class MusicApi extends Context.Tag("lyra/MusicApi")<MusicApi, {
  readonly providers: ReadonlyArray<ProviderInfo>
  /** Turns the `provider:kind:id` shorthand or a provider URL into a reference. */
  readonly resolve: (input: string) => Effect.Effect<MediaRef, UsageError>
  readonly track: (provider: string, id: string) => Effect.Effect<Track, ApiError>
  readonly album: (provider: string, id: string) => Effect.Effect<Album, ApiError>
  readonly artist: (provider: string, id: string) => Effect.Effect<Artist, ApiError>
  readonly playlist: (provider: string, id: string) => Effect.Effect<Playlist, ApiError>
  readonly search: (
    provider: string,
    kind: MediaKind,
    query: string,
    limit: number
  ) => Effect.Effect<ReadonlyArray<SearchResult>, ApiError>
  readonly source: (track: Track, quality: Quality) => Effect.Effect<TrackSource, ApiError>
  /** Where the cover of a track's album is, about `resolution` pixels square; undefined if the provider has no covers. */
  readonly cover: (track: Track, resolution: number) => Effect.Effect<CoverSource | undefined, ApiError>
  /** A track's lyrics; undefined if the provider has none. */
  readonly lyrics: (track: Track) => Effect.Effect<Lyrics | undefined, ApiError>
}>() {}
