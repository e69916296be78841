import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as Data from "effect/Data"
import type { MusicApiError } from "../services/MusicApiError.js"

/** Bytes served over HTTP(S); `headers` are sent with the GET. */
export interface HttpBody {
  readonly _tag: "HttpBody"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /**
   * The media types the answer must have, when the bytes were asked for in a
   * format (a transcode): a server that sends another one is refused, so that
   * no FLAC is saved under an `.mp3` name. Without it any non-text type is taken.
   */
  readonly mediaTypes?: ReadonlyArray<string> | undefined
}

/**
 * An opened body. `offset` is where its bytes really start: the offset asked
 * for, or 0 when the service ignored the range and sends the whole file again.
 */
export interface OpenedBody {
  readonly offset: number
  readonly bytes: Stream.Stream<Uint8Array, MusicApiError>
}

/** Bytes a provider streams itself, from a byte offset (for resuming a partial file). */
export interface StreamBody {
  readonly _tag: "StreamBody"
  /** Opens the body at `offset`; the connection lives as long as the scope. */
  readonly open: (offset: number) => Effect.Effect<OpenedBody, MusicApiError, Scope.Scope>
}

/** Where a track's bytes come from, and what they must add up to. */
export class TrackSource extends Data.Class<{
  readonly body: HttpBody | StreamBody
  /** The container / file extension, e.g. `flac`. */
  readonly container: string
  readonly sizeBytes?: number | undefined
  /** Lower-case hex sha256 of the whole file, where the service knows it. */
  readonly sha256?: string | undefined
  /**
   * `false` when a broken transfer must start over rather than resume with a
   * Range request: a live transcode need not give the same bytes twice, and
   * with no size or checksum to check, a spliced file would go unnoticed.
   */
  readonly resumable?: boolean | undefined
  /**
   * Fewer bytes than this are an incomplete file, where the size is not known
   * beforehand (a transcode ended early, its connection closed cleanly).
   */
  readonly minBytes?: number | undefined
}> {}
