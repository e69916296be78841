import type { Effect } from "effect"
import { Effect as E } from "effect"
import type { JobSettings } from "../domain/JobSettings.js"
import * as InFlight from "../engine/InFlight.js"
import * as PriorityPermits from "../engine/PriorityPermits.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/**
 * The shared state of one job: the album and track levels, and the in-flight
 * maps that make a track or album named twice fetch once.
 */
export interface Job {
  readonly settings: JobSettings
  readonly albumPermits: PriorityPermits.PriorityPermits
  readonly trackPermits: PriorityPermits.PriorityPermits
  /** Track downloads by `provider:track:id`. */
  readonly tracks: InFlight.InFlight<TrackOutcome, never>
  /** Album, playlist and artist walks by reference. */
  readonly groups: InFlight.InFlight<void, never>
  /** Numbers albums in the order they are discovered; lower starts (and so finishes) first. */
  readonly nextSequence: () => number
  /** Gives each placement of a track its own item id: `ref`, then `ref#2`, `ref#3`... */
  readonly placementId: (ref: string, path: string) => { readonly item: string; readonly isNew: boolean }
}

export const makeJob = (settings: JobSettings): Effect.Effect<Job> =>
  E.gen(function*() {
    let sequence = 0
    const placements = new Map<string, Map<string, string>>()
    return {
      settings,
      albumPermits: yield* PriorityPermits.make(settings.albums),
      trackPermits: yield* PriorityPermits.make(settings.tracks),
      tracks: yield* InFlight.make<TrackOutcome, never>(),
      groups: yield* InFlight.make<void, never>(),
      nextSequence: () => sequence++,
      placementId: (ref, path) => {
        let byPath = placements.get(ref)
        if (byPath === undefined) {
          byPath = new Map()
          placements.set(ref, byPath)
        }
        const known = byPath.get(path)
        if (known !== undefined) return { item: known, isNew: false }
        const item = byPath.size === 0 ? ref : `${ref}#${byPath.size + 1}`
        byPath.set(path, item)
        return { item, isNew: true }
      }
    }
  })
