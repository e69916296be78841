import type { Stream } from "effect"
import { Data } from "effect"
import type { MusicApiError } from "../services/MusicApiError.js"

/** Bytes served over HTTP(S); `headers` are sent with the GET. */
export interface HttpBody {
  readonly _tag: "HttpBody"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

/** Bytes a provider streams itself, from a byte offset (for resuming a partial file). */
export interface StreamBody {
  readonly _tag: "StreamBody"
  readonly open: (offset: number) => Stream.Stream<Uint8Array, MusicApiError>
}

/** Where a track's bytes come from, and what they must add up to. */
export class TrackSource extends Data.Class<{
  readonly body: HttpBody | StreamBody
  /** The container / file extension, e.g. `flac`. */
  readonly container: string
  readonly sizeBytes?: number | undefined
  /** Lower-case hex sha256 of the whole file, where the service knows it. */
  readonly sha256?: string | undefined
}> {}
