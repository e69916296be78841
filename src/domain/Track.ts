import * as Schema from "effect/Schema"

/** One track's metadata, modelled on OrpheusDL's TrackInfo and its Tags. */
export class Track extends Schema.Class<Track>("Track")({
  provider: Schema.String,
  id: Schema.String,
  title: Schema.String,
  artists: Schema.Array(Schema.String),
  artistId: Schema.optional(Schema.String),
  album: Schema.String,
  albumId: Schema.optional(Schema.String),
  albumArtist: Schema.optional(Schema.String),
  trackNumber: Schema.optional(Schema.Int),
  totalTracks: Schema.optional(Schema.Int),
  discNumber: Schema.optional(Schema.Int),
  totalDiscs: Schema.optional(Schema.Int),
  releaseYear: Schema.optional(Schema.Int),
  releaseDate: Schema.optional(Schema.String),
  durationSeconds: Schema.optional(Schema.Number),
  explicit: Schema.optional(Schema.Boolean),
  /** Whether its album is marked explicit (any of its tracks is), where the service says so: the album folder's `{explicit}`. */
  albumExplicit: Schema.optional(Schema.Boolean),
  isrc: Schema.optional(Schema.String),
  upc: Schema.optional(Schema.String),
  genres: Schema.optional(Schema.Array(Schema.String)),
  composer: Schema.optional(Schema.String),
  copyright: Schema.optional(Schema.String),
  label: Schema.optional(Schema.String),
  codec: Schema.optional(Schema.String),
  bitDepth: Schema.optional(Schema.Int),
  sampleRate: Schema.optional(Schema.Int),
  bitrate: Schema.optional(Schema.Int),
  sizeBytes: Schema.optional(Schema.Int),
  coverUrl: Schema.optional(Schema.String)
}) {}
