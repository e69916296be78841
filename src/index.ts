/**
 * lyra as a library: the programs, the service ports, their layers and the
 * domain types. An embedding Effect app provides the layers it wants once and
 * runs the same programs the CLI runs.
 */

// Programs
export { download } from "./programs/download.js"
export { JobReport } from "./programs/JobReport.js"

// Domain
export { Album } from "./domain/Album.js"
export { Artist } from "./domain/Artist.js"
export { defaultJobSettings, type JobSettings } from "./domain/JobSettings.js"
export { defaultBurst, defaultLimitSettings, type LimitSettings } from "./domain/LimitSettings.js"
export { MediaKind, MediaRef, parseShorthand } from "./domain/MediaRef.js"
export { Playlist } from "./domain/Playlist.js"
export * from "./domain/ProgressEvent.js"
export { type ItemView, ProgressSnapshot, type Tally } from "./domain/ProgressSnapshot.js"
export { Quality } from "./domain/Quality.js"
export { planPath, sanitizeSegment } from "./domain/SafePath.js"
export { SearchResult } from "./domain/SearchResult.js"
export { Track } from "./domain/Track.js"
export { type HttpBody, type OpenedBody, type StreamBody, TrackSource } from "./domain/TrackSource.js"
export { UsageError } from "./domain/UsageError.js"

// Service ports
export { type ApiError, MusicApi, type ProviderInfo } from "./services/MusicApi.js"
export * from "./services/MusicApiError.js"
export { Progress } from "./services/Progress.js"
export type { Provider, ProviderCapabilities } from "./services/Provider.js"
export { ProviderRegistry } from "./services/ProviderRegistry.js"
export { type LimiterUsage, RateLimiter } from "./services/RateLimiter.js"
export { QuotaExhaustedError } from "./services/RateLimiterError.js"
export { RetryPolicy } from "./services/RetryPolicy.js"
export { type FileState, Storage, type WriteResult } from "./services/Storage.js"
export { StorageError } from "./services/StorageError.js"
export { Transport } from "./services/Transport.js"

// Layers
export * as EngineLayer from "./layers/EngineLayer.js"
export * as HttpTransportLive from "./layers/HttpTransportLive.js"
export * as MusicApiLive from "./layers/MusicApiLive.js"
export * as PlainRenderer from "./layers/PlainRenderer.js"
export * as ProgressLive from "./layers/ProgressLive.js"
export * as ProgressRecorder from "./layers/ProgressRecorder.js"
export * as RateLimiterLive from "./layers/RateLimiterLive.js"
export * as SimProfile from "./layers/sim/SimProfile.js"
export * as SimProvider from "./layers/sim/SimProvider.js"
export { SimServer } from "./layers/sim/SimServer.js"
export * as StorageLive from "./layers/StorageLive.js"
export * as StorageMemory from "./layers/StorageMemory.js"
export { renderSummary } from "./layers/Summary.js"
