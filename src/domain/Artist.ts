import * as Schema from "effect/Schema"

/** An artist, modelled on OrpheusDL's ArtistInfo: the albums and loose tracks to fetch. */
export class Artist extends Schema.Class<Artist>("Artist")({
  provider: Schema.String,
  id: Schema.String,
  name: Schema.String,
  albumIds: Schema.Array(Schema.String),
  trackIds: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
}) {}
