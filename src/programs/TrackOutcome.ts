import type { FinalState } from "../domain/ProgressEvent.js"

/** How one track placement ended, as the item's final event says. */
export interface TrackOutcome {
  readonly state: FinalState
  /** The library path of the file, when there is one. */
  readonly path?: string | undefined
  readonly bytes?: number | undefined
  readonly sha256?: string | undefined
  readonly reason?: string | undefined
}
