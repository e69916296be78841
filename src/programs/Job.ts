import * as Effect from "effect/Effect"
import type { JobSettings } from "../domain/JobSettings.js"
import { NameClaims } from "../domain/NameClaims.js"
import type { ProgressEventInput } from "../domain/ProgressEvent.js"
import * as InFlight from "../engine/InFlight.js"
import * as PriorityPermits from "../engine/PriorityPermits.js"
import { JobStore } from "../services/JobStore.js"
import type { JobStoreError } from "../services/JobStoreError.js"
import { Progress } from "../services/Progress.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/**
 * The shared state of one job: the album and track levels, and the in-flight
 * maps that make a track or album named twice fetch once.
 */
export interface Job {
  /** The job's id in the JobStore. */
  readonly id: string
  readonly settings: JobSettings
  /** Publishes an item event and journals it in the JobStore, so state survives a crash. */
  readonly emit: (event: ProgressEventInput) => Effect.Effect<void, JobStoreError>
  readonly albumPermits: PriorityPermits.PriorityPermits
  readonly trackPermits: PriorityPermits.PriorityPermits
  /** Track downloads by `provider:track:id`. */
  readonly tracks: InFlight.InFlight<TrackOutcome, JobStoreError>
  /** Album, playlist and artist walks by reference. */
  readonly groups: InFlight.InFlight<void, JobStoreError>
  /** Numbers albums in the order they are discovered; lower starts (and so finishes) first. */
  readonly nextSequence: () => number
  /** Gives each placement of a track its own item id: `ref`, then `ref#2`, `ref#3`... */
  readonly placementId: (ref: string, path: string) => { readonly item: string; readonly isNew: boolean }
  /** The library names handed out, so that two tracks never share one. */
  readonly names: NameClaims
}

export const makeJob = (id: string, settings: JobSettings): Effect.Effect<Job, never, Progress | JobStore> =>
  Effect.gen(function*() {
    const progress = yield* Progress
    const store = yield* JobStore
    let sequence = 0
    const placements = new Map<string, Map<string, string>>()
    return {
      id,
      settings,
      emit: (event) => Effect.zipRight(store.journal(id, event), progress.publish(event)),
      albumPermits: yield* PriorityPermits.make(settings.albums),
      trackPermits: yield* PriorityPermits.make(settings.tracks),
      tracks: yield* InFlight.make<TrackOutcome, JobStoreError>(),
      groups: yield* InFlight.make<void, JobStoreError>(),
      nextSequence: () => sequence++,
      names: new NameClaims(),
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
