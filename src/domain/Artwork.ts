import { Data, Schema } from "effect"
import type { HttpBody, StreamBody } from "./TrackSource.js"

/** Where an album cover's bytes come from, as a provider names them (a URL, or a stream it serves itself). */
export class CoverSource extends Data.Class<{
  readonly body: HttpBody | StreamBody
  /** e.g. `image/jpeg`. */
  readonly mimeType: string
}> {}

/** A fetched cover, whole: covers are small, and one is kept per album while its tracks are tagged. */
export interface CoverArt {
  readonly bytes: Uint8Array
  readonly mimeType: string
}

/** A track's lyrics, modelled on OrpheusDL's LyricsInfo: plain text, and LRC text with timestamps. */
export class Lyrics extends Schema.Class<Lyrics>("Lyrics")({
  unsynced: Schema.optional(Schema.String),
  synced: Schema.optional(Schema.String)
}) {}
