/**
 * Finds the request rate and concurrency a service sustains, from what it
 * answers: no configuration, no knowledge of its limits.
 *
 * - It starts unpaced, at full concurrency. The first rate limit tells how big
 *   the service's burst is (what got through before it), and the pace starts
 *   at what got through in that first second.
 * - Quiet epochs in which the pace held requests back grow it: doubling while
 *   no limit is known, then halfway to just under the ceiling.
 * - A fresh 429/503 (one whose request was sent after the last reaction, so a
 *   burst of echoes counts once) reads the service's rate off the stretch that
 *   ended in it: a token bucket let through its burst plus its rate times the
 *   time, so rate ≈ (let through − burst) / time, over the part of the stretch
 *   that went faster than that. The pace drops to that rate and the ceiling to
 *   a tenth above it; without a burst to go on, the pace drops by a fifth.
 *   Concurrency shrinks by a quarter when it was what held calls back.
 * - A growth that did not raise the next epoch's goodput is taken back and
 *   held for a while: a plateau, not a ratchet. A long quiet spell at the
 *   ceiling probes a little above it, in case the limit moved.
 * - Without a Retry-After, fresh limits in a row back off exponentially.
 *
 * Pure and synchronous: the caller passes Clock time in and applies what it answers.
 */

export interface AdaptiveOptions {
  /** The concurrency cap it never exceeds (`--api`). */
  readonly maxConcurrency: number
  /** The shortest epoch over which goodput is judged. */
  readonly epochMillis: number
  /** Requests an epoch should hold at the current pace, so goodput is not judged on noise. */
  readonly epochRequests: number
  readonly minRate: number
  /** Backoff without a Retry-After: base, doubled per fresh limit in a row, capped. */
  readonly backoffBaseMillis: number
  readonly backoffMaxMillis: number
}

export const defaultAdaptiveOptions = (maxConcurrency: number): AdaptiveOptions => ({
  maxConcurrency,
  epochMillis: 400,
  epochRequests: 6,
  minRate: 0.2,
  backoffBaseMillis: 250,
  backoffMaxMillis: 30_000
})

/** A change of the limits in force, and why. */
export interface Adjustment {
  readonly ratePerSecond: number | undefined
  readonly concurrency: number
  readonly reason: string
}

export interface LimitedDecision {
  readonly adjustment?: Adjustment | undefined
  /** How long every call should wait (only without a Retry-After). */
  readonly backoffMillis?: number | undefined
}

const decrease = 0.8
/** The most one limit takes off the last pace that held, however low the rate read off its stretch. */
const deepestCut = 0.5
const slowStartGrowth = 2
/** Grow toward this share of the ceiling, never onto it. */
const ceilingMargin = 0.95
/** The ceiling set above a rate read off a stretch. */
const ceilingOverEstimate = 1.25
/** Quiet epochs at the ceiling before it is probed again, and by how much. */
const ceilingProbeEpochs = 12
const ceilingProbe = 1.1
/** Epochs a taken-back growth is held before growing again. */
const plateauHoldEpochs = 6
/** Smallest growth worth judging against noise. */
const judgedGrowth = 0.2

interface Growth {
  readonly kind: "rate" | "concurrency"
  readonly before: number
  readonly goodputBefore: number
  readonly gain: number
}

/** One epoch of a stretch: the pace it ran at, and what got through in how long. */
interface Segment {
  readonly rate: number
  readonly good: number
  readonly millis: number
}

const round = (rate: number) => Math.round(rate * 100) / 100

/** Drops the times older than a second. */
const trim = (times: Array<number>, now: number) => {
  while (times.length > 0 && times[0]! <= now - 1000) times.shift()
}

/**
 * The rate of a token bucket that let `segments` through and then refused,
 * given its burst: (good − burst) / time over the segments paced faster than
 * the answer (slower ones left its bucket full, so they tell nothing).
 */
export const rateFromStretch = (segments: ReadonlyArray<Segment>, burst: number): number | undefined => {
  let estimate: number | undefined = undefined
  for (let i = 0; i < segments.length; i++) {
    const counted = segments.filter((s) => estimate === undefined || s.rate > estimate)
    const good = counted.reduce((sum, s) => sum + s.good, 0)
    const millis = counted.reduce((sum, s) => sum + s.millis, 0)
    if (millis < 200) return estimate
    const next = ((good - burst) * 1000) / millis
    if (!(next > 0)) return undefined
    if (estimate !== undefined && Math.abs(next - estimate) < 1e-9) break
    estimate = next
  }
  return estimate
}

export class AdaptiveRate {
  /** The pace in force, in requests per second; undefined while unpaced. */
  rate: number | undefined = undefined
  concurrency: number
  /** The lowest pace known to draw rate limits. */
  ceiling = Number.POSITIVE_INFINITY
  /** What got through before the first rate limit: the service's burst. */
  burst: number | undefined = undefined

  private startedAt: number | undefined = undefined
  /** Until the next fresh limit, echoes of the first one correct the burst. */
  private firstReaction = false
  private lastReactionAt = Number.NEGATIVE_INFINITY
  private streak = 0
  private holdUntil = Number.NEGATIVE_INFINITY
  private quietAtCeiling = 0
  private growth: Growth | undefined = undefined
  /** The last pace that held through a quiet epoch (or was set after a limit): the base of `deepestCut`. */
  private heldRate: number | undefined = undefined
  private permitBoundBefore = false
  /** Admission and rate-limit times of the last second, for the unpaced estimate. */
  private readonly recent: Array<number> = []
  private readonly recentLimited: Array<number> = []
  /** The epochs since the last reaction, and the total of the stretch before. */
  private stretch: Array<Segment> = []
  private previousStretch: { readonly good: number; readonly millis: number } | undefined = undefined

  private epochStart: number | undefined = undefined
  private admittedInEpoch = 0
  private limitedInEpoch = 0
  private paceBound = 0
  private permitBound = 0

  constructor(readonly options: AdaptiveOptions) {
    this.concurrency = options.maxConcurrency
  }

  /** A request was let through at `now`; `bound` says which limit held it back first. */
  admitted(now: number, bound: { readonly pace: boolean; readonly permits: boolean }): Adjustment | undefined {
    if (this.startedAt === undefined) this.startedAt = now
    const adjustment = this.roll(now)
    this.admittedInEpoch++
    if (bound.pace) this.paceBound++
    if (bound.permits) this.permitBound++
    this.recent.push(now)
    trim(this.recent, now)
    return adjustment
  }

  /** A request admitted at `admittedAt` (undefined when unknown) was answered 429 or 503 at `now`. */
  limited(now: number, admittedAt: number | undefined, hasRetryAfter: boolean): LimitedDecision {
    // A refusal counts against the epoch its request was let through in.
    if (admittedAt === undefined || (this.epochStart !== undefined && admittedAt >= this.epochStart)) {
      this.limitedInEpoch++
    }
    this.recentLimited.push(now)
    trim(this.recentLimited, now)
    trim(this.recent, now)
    const fresh = admittedAt === undefined
      ? now - this.lastReactionAt >= this.options.epochMillis
      : admittedAt > this.lastReactionAt
    if (!fresh) {
      // Echoes of the first limit: requests that were out already did not get through either.
      if (this.firstReaction && this.burst !== undefined && this.burst > 1 && this.rate !== undefined) {
        this.burst--
        this.rate = Math.max(this.options.minRate, this.rate - 1)
      }
      return {}
    }
    this.firstReaction = false
    this.lastReactionAt = now
    const before = this.rate
    // At least one a second: a service that refuses the very first requests still gets asked.
    const lastSecond = Math.max(1, this.recent.length - this.recentLimited.length)
    let reason: string
    if (before === undefined) {
      if (this.startedAt !== undefined && now - this.startedAt <= 1000) {
        // The first limit, within a second: that unpaced run was the service's burst.
        this.burst = lastSecond
        this.firstReaction = true
        this.rate = lastSecond
      } else {
        // A longer unpaced run went faster than the service: below what got through, and never above it again.
        this.rate = lastSecond * decrease
        this.ceiling = lastSecond
      }
      reason = `rate limited: pacing at ${round(this.rate)}/s, from the ${round(lastSecond)}/s that got through`
    } else {
      const segments = this.closeStretch(now)
      // Without a known burst, two stretches that each began with a full bucket tell both.
      if (this.burst === undefined) this.burst = this.burstFromStretches(segments)
      const read = this.burst === undefined ? undefined : rateFromStretch(segments, this.burst)
      if (read !== undefined && read < before) {
        // One limit at most halves the last pace that held: a stretch read wrong (short, or
        // one a slow client never pushed to the limit) must not throw it to the floor for minutes.
        const sustained = Math.max(read, (this.heldRate ?? before) * deepestCut)
        this.rate = Math.max(this.options.minRate, sustained)
        this.ceiling = Math.min(this.ceiling, before, sustained * ceilingOverEstimate)
        reason = `rate limited at ${before}/s: the service sustains about ${round(sustained)}/s`
      } else {
        this.rate = Math.max(this.options.minRate, before * decrease)
        this.ceiling = Math.min(this.ceiling, before)
        reason = `rate limited at ${before}/s: slowing down`
      }
    }
    this.rate = round(this.rate)
    this.heldRate = this.rate
    if (this.permitBound > 0 || this.permitBoundBefore) {
      this.concurrency = Math.max(1, Math.floor(this.concurrency * 0.75))
    }
    this.stretch = []
    this.growth = undefined
    this.quietAtCeiling = 0
    this.holdUntil = now + this.epochLength()
    this.startEpoch(now)
    const backoffMillis = hasRetryAfter ? undefined : Math.min(
      this.options.backoffMaxMillis,
      this.options.backoffBaseMillis * 2 ** this.streak
    )
    this.streak++
    return { adjustment: { ratePerSecond: this.rate, concurrency: this.concurrency, reason }, backoffMillis }
  }

  /**
   * A token bucket refills during a cooldown; if two stretches started full,
   * let through a1 = burst + rate·t1 and a2 = burst + rate·t2, both follow.
   * Answers the burst when the two readings are far enough apart to trust.
   */
  private burstFromStretches(segments: ReadonlyArray<Segment>): number | undefined {
    const good = segments.reduce((sum, s) => sum + s.good, 0)
    const millis = segments.reduce((sum, s) => sum + s.millis, 0)
    const previous = this.previousStretch
    this.previousStretch = { good, millis }
    if (previous === undefined || Math.abs(previous.millis - millis) < 500) return undefined
    const rate = ((previous.good - good) * 1000) / (previous.millis - millis)
    const burst = good - (rate * millis) / 1000
    return rate > 0 && burst >= 1 && burst < good ? Math.round(burst) : undefined
  }

  /** The stretch since the last reaction, with the epoch in progress. */
  private closeStretch(now: number): ReadonlyArray<Segment> {
    const current = this.epochStart === undefined || this.rate === undefined
      ? []
      : [{ rate: this.rate, good: this.admittedInEpoch - this.limitedInEpoch, millis: now - this.epochStart }]
    return [...this.stretch, ...current]
  }

  /** The epoch at the current pace: long enough to hold `epochRequests`, but no more than 4 epochs' worth. */
  private epochLength(): number {
    const rate = this.rate
    if (rate === undefined) return this.options.epochMillis
    return Math.min(
      4 * this.options.epochMillis,
      Math.max(this.options.epochMillis, (this.options.epochRequests * 1000) / rate)
    )
  }

  private startEpoch(now: number) {
    this.epochStart = now
    this.admittedInEpoch = 0
    this.limitedInEpoch = 0
    this.paceBound = 0
    this.permitBound = 0
  }

  /** Closes the epoch if it is over, and answers the growth or take-back it calls for. */
  private roll(now: number): Adjustment | undefined {
    if (this.epochStart === undefined) {
      this.startEpoch(now)
      return undefined
    }
    if (this.admittedInEpoch === 0) {
      // Nothing went out since the epoch began (a cooldown, or no demand): it starts now.
      this.startEpoch(now)
      return undefined
    }
    const span = now - this.epochStart
    if (span < this.epochLength()) return undefined
    const good = this.admittedInEpoch - this.limitedInEpoch
    const goodput = (good * 1000) / span
    const quiet = this.limitedInEpoch === 0
    const paceBound = this.paceBound * 2 > this.admittedInEpoch
    const permitBound = this.permitBound > 0
    if (this.rate !== undefined) this.stretch.push({ rate: this.rate, good, millis: span })
    this.permitBoundBefore = permitBound
    this.startEpoch(now)
    if (!quiet || now < this.holdUntil) return undefined
    this.streak = 0

    const growth = this.growth
    this.growth = undefined
    if (
      growth !== undefined && growth.gain >= judgedGrowth && goodput < growth.goodputBefore * (1 + growth.gain * 0.4)
    ) {
      // The last growth bought nothing: take it back and hold there.
      this.holdUntil = now + plateauHoldEpochs * this.epochLength()
      if (growth.kind === "rate") this.rate = growth.before
      else this.concurrency = growth.before
      return {
        ratePerSecond: this.rate,
        concurrency: this.concurrency,
        reason: `plateau: more ${growth.kind} did not raise throughput`
      }
    }

    const rate = this.rate
    if (paceBound && rate !== undefined) {
      const towardCeiling = (ceiling: number) =>
        Number.isFinite(ceiling)
          ? Math.min(rate * slowStartGrowth, (rate + ceiling * ceilingMargin) / 2)
          : rate * slowStartGrowth
      let target = towardCeiling(this.ceiling)
      if (target <= rate * 1.01) {
        // At the ceiling: after a long quiet spell, the limit may have moved.
        if (++this.quietAtCeiling < ceilingProbeEpochs) return undefined
        this.quietAtCeiling = 0
        this.ceiling = this.ceiling * ceilingProbe
        target = towardCeiling(this.ceiling)
      }
      target = round(target)
      this.heldRate = rate
      this.growth = { kind: "rate", before: rate, goodputBefore: goodput, gain: target / rate - 1 }
      this.rate = target
      return { ratePerSecond: target, concurrency: this.concurrency, reason: "throughput still rising: faster" }
    }
    if (permitBound && this.concurrency < this.options.maxConcurrency) {
      const before = this.concurrency
      this.growth = { kind: "concurrency", before, goodputBefore: goodput, gain: 1 / before }
      this.concurrency = before + 1
      return { ratePerSecond: this.rate, concurrency: this.concurrency, reason: "throughput still rising: more at once" }
    }
    return undefined
  }
}
