import * as Schema from "effect/Schema"
import { MediaKind } from "./MediaRef.js"

/** One search hit, with what a numbered results table shows. */
export class SearchResult extends Schema.Class<SearchResult>("SearchResult")({
  provider: Schema.String,
  kind: MediaKind,
  id: Schema.String,
  name: Schema.String,
  artists: Schema.Array(Schema.String),
  year: Schema.optional(Schema.Int)
}) {}
