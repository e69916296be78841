import * as Schema from "effect/Schema"
import { Track } from "./Track.js"

/** A playlist, modelled on OrpheusDL's PlaylistInfo. */
export class Playlist extends Schema.Class<Playlist>("Playlist")({
  provider: Schema.String,
  id: Schema.String,
  name: Schema.String,
  creator: Schema.optional(Schema.String),
  trackIds: Schema.Array(Schema.String),
  tracks: Schema.optional(Schema.Array(Track)),
  releaseYear: Schema.optional(Schema.Int),
  description: Schema.optional(Schema.String),
  coverUrl: Schema.optional(Schema.String)
}) {}
