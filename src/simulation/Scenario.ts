import type { JobSettings } from "../domain/JobSettings.js"
import { defaultJobSettings } from "../domain/JobSettings.js"
import type { LimitSettings } from "../domain/LimitSettings.js"
import { defaultLimitSettings } from "../domain/LimitSettings.js"
import { defaultRetryPolicy } from "../layers/EngineLayer.js"
import { defaultShape } from "../layers/sim/SimCatalog.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import type { RetryPolicy } from "../services/RetryPolicy.js"
import type { TaggerSimOptions } from "./TaggerSim.js"

/** One simulated job: the service, what to download from it, and how lyra is set up. */
export interface Scenario {
  readonly profile: SimProfile.SimProfile
  /** What to download, as `lyra download` takes it; `allArtists(profile)` by default. */
  readonly inputs: ReadonlyArray<string>
  readonly settings: JobSettings
  readonly limits: LimitSettings
  readonly retry: RetryPolicy["Type"]
  /**
   * How long tagging takes, per file and in parallel (no time by default). `false` runs with no tagger
   * at all, as the engine tests do: then no track is post-processed (no cover, lyrics or tags).
   */
  readonly tagging?: TaggerSimOptions | false | undefined
}

/** How a simulation carries bytes: a megabyte per paced step, and none generated. */
export const simulationPayload = { chunkBytes: 1_000_000, payload: "virtual" } as const

/**
 * `lyra simulate`'s service when nothing is said: 8 artists (about 340 tracks of
 * 0.5-1.2 MB) behind a 20 requests/s limit with a burst of 10 that answers 429
 * with Retry-After, 40 ms median latency, 1 MB/s per connection, 1% faults:
 * both the rate limit and the bandwidth matter, as they do for real services.
 * Bytes are paced a megabyte at a time and not generated: a simulation models
 * time, not content.
 */
export const defaultProfile: SimProfile.SimProfile = SimProfile.make({
  rate: 20,
  burst: 10,
  bandwidth: 1_000_000,
  shape: { ...defaultShape, artists: 8, playlists: 0 },
  ...simulationPayload
})

/** Every artist of the profile's catalog, in order. */
export const allArtists = (profile: SimProfile.SimProfile): ReadonlyArray<string> =>
  Array.from({ length: profile.shape.artists }, (_, i) => `sim:artist:${i + 1}`)

/** A scenario with lyra's defaults, for `profile` (and every artist in it unless `inputs` says otherwise). */
export const make = (overrides: Partial<Scenario> = {}): Scenario => {
  const profile = overrides.profile ?? defaultProfile
  return {
    profile,
    inputs: overrides.inputs ?? allArtists(profile),
    settings: overrides.settings ?? defaultJobSettings,
    limits: overrides.limits ?? defaultLimitSettings,
    retry: overrides.retry ?? defaultRetryPolicy,
    tagging: overrides.tagging
  }
}
