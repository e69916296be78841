import type * as Effect from "effect/Effect"
import * as Context from "effect/Context"
import type { LimitSettings } from "../domain/LimitSettings.js"
import type { RateLimitedError } from "./MusicApiError.js"
import type { QuotaExhaustedError } from "./RateLimiterError.js"

/** What the limiter is doing for one provider right now, for progress displays. */
export interface LimiterUsage {
  readonly provider: string
  readonly inFlight: number
  readonly concurrency: number
  readonly ratePerSecond: number | undefined
  readonly coolingDownUntil: number | undefined
}

/**
 * Admission per provider: a shared cooldown gate (Retry-After), a quota, pacing
 * (a token bucket) and a concurrency cap, in that order. A fiber waiting at the
 * gate or for its turn holds no concurrency permit.
 */
export class RateLimiter extends Context.Tag("lyra/RateLimiter")<RateLimiter, {
  /** The limits in force, for reports and displays. */
  readonly settings: LimitSettings
  /** Runs one API call under every limit; a RateLimitedError it fails with starts the shared cooldown. */
  readonly call: <A, E, R>(
    provider: string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | QuotaExhaustedError, R>
  /** Admits the start of a transfer request: gate, quota and pace, but no permit held while bytes flow. */
  readonly admit: (provider: string) => Effect.Effect<void, QuotaExhaustedError>
  /** Reports a rate limit met outside `call` (e.g. on a transfer), so every fiber cools down. */
  readonly throttled: (error: RateLimitedError) => Effect.Effect<void>
  /** Admits `bytes` of transfer under the total bandwidth cap. */
  readonly bandwidth: (bytes: number) => Effect.Effect<void>
  readonly usage: Effect.Effect<ReadonlyArray<LimiterUsage>>
}>() {}
