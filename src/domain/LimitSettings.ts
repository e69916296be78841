import type * as Duration from "effect/Duration"

/** The limits the RateLimiter enforces per provider (and, for bandwidth, in total). */
export interface LimitSettings {
  /** API calls in flight per provider (K). */
  readonly apiConcurrency: number
  /** Pacing: at most `perSecond` calls per second per provider, after a burst of `burst`. */
  readonly rate?: { readonly perSecond: number; readonly burst: number } | undefined
  /** At most `limit` calls per `window` per provider; then wait for the next window or stop. */
  readonly quota?: {
    readonly limit: number
    readonly window: Duration.Duration
    readonly onExhausted: "wait" | "stop"
  } | undefined
  /** Total transfer bytes per second across every transfer. */
  readonly maxBandwidth?: number | undefined
}

export const defaultLimitSettings: LimitSettings = { apiConcurrency: 10 }

/** A small default burst for `--rate N`: a tenth of a second's worth, at least one call. */
export const defaultBurst = (perSecond: number): number => Math.max(1, Math.round(perSecond / 10))
