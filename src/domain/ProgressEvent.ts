import * as Schema from "effect/Schema"

/** What an item is: the tree a job walks. */
export const ItemKind = Schema.Literal("artist", "album", "playlist", "track")
export type ItemKind = typeof ItemKind.Type

/** The three states an item can end in. */
export const FinalState = Schema.Literal("done", "skipped", "failed")
export type FinalState = typeof FinalState.Type

const base = {
  /** Milliseconds since the epoch, from the engine's Clock. */
  at: Schema.Number
}

export const JobStarted = Schema.TaggedStruct("JobStarted", {
  ...base,
  inputs: Schema.Array(Schema.String),
  limits: Schema.Struct({ albums: Schema.Int, tracks: Schema.Int, tracksPerAlbum: Schema.Int, api: Schema.Int })
})

export const ItemQueued = Schema.TaggedStruct("ItemQueued", {
  ...base,
  item: Schema.String,
  kind: ItemKind,
  label: Schema.String,
  parent: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  sizeBytes: Schema.optional(Schema.Number)
})

export const ItemStarted = Schema.TaggedStruct("ItemStarted", {
  ...base,
  item: Schema.String,
  kind: ItemKind
})

export const ItemFinished = Schema.TaggedStruct("ItemFinished", {
  ...base,
  item: Schema.String,
  kind: ItemKind,
  state: FinalState,
  reason: Schema.optional(Schema.String),
  bytes: Schema.optional(Schema.Number),
  /** Where a finished track is in the library, and its sha256. */
  path: Schema.optional(Schema.String),
  sha256: Schema.optional(Schema.String)
})

/** Bytes written for a track so far; published at a bounded rate. */
export const TrackBytes = Schema.TaggedStruct("TrackBytes", {
  ...base,
  item: Schema.String,
  bytes: Schema.Number,
  totalBytes: Schema.optional(Schema.Number)
})

export const Retrying = Schema.TaggedStruct("Retrying", {
  ...base,
  provider: Schema.String,
  operation: Schema.String,
  /** The item being retried, for transfers. */
  item: Schema.optional(Schema.String),
  attempt: Schema.Int,
  delayMillis: Schema.Number,
  reason: Schema.String
})

export const RateLimited = Schema.TaggedStruct("RateLimited", {
  ...base,
  provider: Schema.String,
  status: Schema.Int,
  retryAfterMillis: Schema.optional(Schema.Number)
})

/** Every call to `provider` is paused until `untilMillis` (a shared Retry-After). */
export const CoolingDown = Schema.TaggedStruct("CoolingDown", {
  ...base,
  provider: Schema.String,
  untilMillis: Schema.Number
})

/**
 * The limiter changed the pace or the concurrency it runs `provider` at: the
 * rate it learned from the service's answers (absent while unpaced), and why.
 */
export const RateAdjusted = Schema.TaggedStruct("RateAdjusted", {
  ...base,
  provider: Schema.String,
  ratePerSecond: Schema.optional(Schema.Number),
  concurrency: Schema.Int,
  reason: Schema.String
})

export const QuotaWaiting = Schema.TaggedStruct("QuotaWaiting", {
  ...base,
  provider: Schema.String,
  untilMillis: Schema.Number
})

export const JobFinished = Schema.TaggedStruct("JobFinished", {
  ...base,
  done: Schema.Int,
  skipped: Schema.Int,
  failed: Schema.Int,
  bytes: Schema.Number,
  interrupted: Schema.Boolean
})

/** Every event the engine publishes. */
export const ProgressEvent = Schema.Union(
  JobStarted,
  ItemQueued,
  ItemStarted,
  ItemFinished,
  TrackBytes,
  Retrying,
  RateLimited,
  CoolingDown,
  RateAdjusted,
  QuotaWaiting,
  JobFinished
)
export type ProgressEvent = typeof ProgressEvent.Type

/** An event as a publisher writes it: the Progress service stamps the time. */
export type ProgressEventInput = ProgressEvent extends infer E ? E extends { readonly at: number } ? Omit<E, "at"> : never
  : never
