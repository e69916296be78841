import * as Schema from "effect/Schema"
import { Track } from "./Track.js"

/**
 * An album, modelled on OrpheusDL's AlbumInfo. `tracks` is present when the
 * provider lists full track metadata in the album answer, so no call per track is needed.
 */
export class Album extends Schema.Class<Album>("Album")({
  provider: Schema.String,
  id: Schema.String,
  title: Schema.String,
  artist: Schema.String,
  artistId: Schema.optional(Schema.String),
  trackIds: Schema.Array(Schema.String),
  tracks: Schema.optional(Schema.Array(Track)),
  releaseYear: Schema.optional(Schema.Int),
  explicit: Schema.optional(Schema.Boolean),
  upc: Schema.optional(Schema.String),
  label: Schema.optional(Schema.String),
  genres: Schema.optional(Schema.Array(Schema.String)),
  coverUrl: Schema.optional(Schema.String)
}) {}
