import * as Data from "effect/Data"
import * as Schema from "effect/Schema"
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

/**
 * A cover's image type, from its first bytes where they say JPEG or PNG,
 * otherwise as the service declared it: a service may say JPEG and serve the
 * PNG it was given, and the tag must name what it holds.
 */
export const imageMimeType = (bytes: Uint8Array, declared: string): string => {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg"
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png"
  return declared
}

/** A track's lyrics, modelled on OrpheusDL's LyricsInfo: plain text, and LRC text with timestamps. */
export class Lyrics extends Schema.Class<Lyrics>("Lyrics")({
  unsynced: Schema.optional(Schema.String),
  synced: Schema.optional(Schema.String)
}) {}
