import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as EffectRateLimiter from "effect/RateLimiter"
import * as Scope from "effect/Scope"
import type { LimitSettings } from "../domain/LimitSettings.js"
import type { Adjustment } from "../engine/AdaptiveRate.js"
import { AdaptiveRate, defaultAdaptiveOptions } from "../engine/AdaptiveRate.js"
import * as Pacer from "../engine/Pacer.js"
import type { RateLimitedError } from "../services/MusicApiError.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import { QuotaExhaustedError } from "../services/RateLimiterError.js"

/** The admission state of one provider. */
interface ProviderGate {
  readonly provider: string
  readonly permits: Effect.Semaphore
  /** `--rate`: effect's token bucket, exact. */
  readonly fixedPace: EffectRateLimiter.RateLimiter | undefined
  /** Without `--rate`: the pace and concurrency learned from the service's answers. */
  readonly adaptive: AdaptiveRate | undefined
  /** The adaptive pace: the next free slot, and the callers waiting for one in order. */
  nextSlot: number
  readonly slotWaiters: Queue.Queue<Deferred.Deferred<void>>
  /** Every call waits until this Clock time (a shared Retry-After, or a backoff). */
  coolUntil: number
  windowStart: number | undefined
  usedInWindow: number
  inFlight: number
}

/** Where the limits held a request back before it was let through. */
interface Admission {
  readonly at: number
  readonly pace: boolean
  readonly permits: boolean
}

const isRateLimited = (error: unknown): error is RateLimitedError =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "RateLimitedError"

/**
 * When this fiber's last transfer request was admitted, so a rate limit it
 * reports later through `throttled` can be told apart from the echoes of one
 * already reacted to.
 */
const lastAdmittedAt = FiberRef.unsafeMake<number | undefined>(undefined)

/**
 * The live RateLimiter: a shared cooldown gate, a quota, pacing and a Semaphore
 * for the concurrency cap, per provider; plus one byte pacer for the total
 * bandwidth cap. With `--rate` the pace is effect's token bucket, exact. Without
 * it the pace and the concurrency are learned (AdaptiveRate): every change is
 * published as a RateAdjusted event and shows in `usage`.
 */
export const layer = (settings: LimitSettings): Layer.Layer<RateLimiter, never, Progress> =>
  Layer.scoped(
    RateLimiter,
    Effect.gen(function*() {
      const progress = yield* Progress
      const scope = yield* Effect.scope
      const bandwidth = settings.maxBandwidth === undefined
        ? undefined
        : yield* Pacer.make(settings.maxBandwidth, Math.max(64 * 1024, settings.maxBandwidth / 10))

      const gates = new Map<string, ProviderGate>()
      const makeGate = (provider: string) =>
        Effect.gen(function*() {
          const gate: ProviderGate = {
            provider,
            permits: yield* Effect.makeSemaphore(settings.apiConcurrency),
            fixedPace: settings.rate === undefined ? undefined : yield* EffectRateLimiter.make({
              algorithm: "token-bucket",
              limit: settings.rate.burst,
              interval: Duration.millis(settings.rate.burst * 1000 / settings.rate.perSecond)
            }).pipe(Scope.extend(scope)),
            adaptive: settings.rate === undefined
              ? new AdaptiveRate(defaultAdaptiveOptions(settings.apiConcurrency))
              : undefined,
            nextSlot: Number.NEGATIVE_INFINITY,
            slotWaiters: yield* Queue.unbounded<Deferred.Deferred<void>>(),
            coolUntil: 0,
            windowStart: undefined,
            usedInWindow: 0,
            inFlight: 0
          }
          if (gate.adaptive !== undefined) yield* Effect.forkIn(Effect.interruptible(dispatchSlots(gate)), scope)
          gates.set(provider, gate)
          return gate
        })
      const gateFor = yield* Effect.cachedFunction(makeGate)

      /** Waits out a cooldown, however often it is extended while waiting. */
      const awaitCooldown = (gate: ProviderGate): Effect.Effect<void> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          gate.coolUntil > now
            ? Effect.zipRight(Effect.sleep(Duration.millis(gate.coolUntil - now)), awaitCooldown(gate))
            : Effect.void)

      const takeQuota = (gate: ProviderGate): Effect.Effect<void, QuotaExhaustedError> => {
        const quota = settings.quota
        if (quota === undefined) return Effect.void
        const window = Duration.toMillis(quota.window)
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (gate.windowStart === undefined || now >= gate.windowStart + window) {
            const elapsed = gate.windowStart === undefined ? 0 : Math.floor((now - gate.windowStart) / window)
            gate.windowStart = gate.windowStart === undefined ? now : gate.windowStart + elapsed * window
            gate.usedInWindow = 0
          }
          if (gate.usedInWindow < quota.limit) {
            gate.usedInWindow++
            return Effect.void
          }
          if (quota.onExhausted === "stop") {
            return new QuotaExhaustedError({ provider: gate.provider, limit: quota.limit, windowMillis: window })
          }
          const until = gate.windowStart + window
          return progress.publish({ _tag: "QuotaWaiting", provider: gate.provider, untilMillis: until }).pipe(
            Effect.zipRight(Effect.sleep(Duration.millis(until - now))),
            Effect.zipRight(takeQuota(gate))
          )
        })
      }

      /**
       * Books the slot just granted at `now`: the next is one interval of the
       * pace in force now after it (after the slot itself when it was waited
       * for, so that whole-millisecond sleeps do not drift).
       */
      const bookSlot = (gate: ProviderGate, now: number) => {
        const rate = gate.adaptive?.rate
        const granted = now - gate.nextSlot < 1 ? gate.nextSlot : now
        gate.nextSlot = rate === undefined ? now : granted + 1000 / rate
      }

      /**
       * Grants the waiting callers their slots, one at a time, spaced by the pace
       * in force when each is granted: a change of pace takes effect at once,
       * not after slots booked at the old one.
       */
      const dispatchSlots = (gate: ProviderGate): Effect.Effect<never> => {
        const awaitSlot: Effect.Effect<void> = Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => {
            // Whole milliseconds, so a fractional slot cannot keep it waking at the same instant.
            const wait = Math.ceil(gate.nextSlot - now)
            return wait > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(wait)), awaitSlot) : Effect.void
          }
        )
        return Queue.take(gate.slotWaiters).pipe(
          Effect.flatMap((waiter) =>
            Deferred.isDone(waiter).pipe(
              Effect.flatMap((gone) =>
                gone ? Effect.void : awaitSlot.pipe(
                  Effect.zipRight(Clock.currentTimeMillis),
                  Effect.flatMap((now) => Effect.sync(() => bookSlot(gate, now))),
                  Effect.zipRight(Deferred.succeed(waiter, undefined))
                )
              )
            )
          ),
          Effect.forever
        )
      }

      /** Takes the next slot of the pace; answers whether it had to wait for it. */
      const pace = (gate: ProviderGate): Effect.Effect<boolean> => {
        if (gate.fixedPace !== undefined) return Effect.as(gate.fixedPace(Effect.void), false)
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (gate.adaptive?.rate === undefined) return Effect.succeed(false)
          if (now >= gate.nextSlot && Option.getOrElse(gate.slotWaiters.unsafeSize(), () => 0) === 0) {
            bookSlot(gate, now)
            return Effect.succeed(false)
          }
          return Effect.flatMap(Deferred.make<void>(), (slot) =>
            Queue.offer(gate.slotWaiters, slot).pipe(
              Effect.zipRight(Deferred.await(slot)),
              // A caller that gives up leaves its place to the next one.
              Effect.onInterrupt(() => Deferred.interrupt(slot)),
              Effect.as(true)
            ))
        })
      }

      const publishAdjustment = (gate: ProviderGate, adjustment: Adjustment | undefined) =>
        adjustment === undefined ? Effect.void : gate.permits.resize(adjustment.concurrency).pipe(
          Effect.zipRight(progress.publish({
            _tag: "RateAdjusted",
            provider: gate.provider,
            ...(adjustment.ratePerSecond === undefined ? {} : { ratePerSecond: adjustment.ratePerSecond }),
            concurrency: adjustment.concurrency,
            reason: adjustment.reason
          }))
        )

      /** Books an admission with the adaptive control, which may grow the limits. */
      const admitted = (gate: ProviderGate, admission: Admission) =>
        gate.adaptive === undefined
          ? Effect.void
          : publishAdjustment(gate, gate.adaptive.admitted(admission.at, admission))

      /**
       * Gate, then a permit, then pace: the pace is taken last, so a call is
       * sent at its slot and a wait for a permit cannot bunch calls into one
       * window. A cooldown begun meanwhile sends the fiber back to the gate
       * without its permit.
       */
      const acquirePermit = (
        gate: ProviderGate,
        restore: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
      ): Effect.Effect<Admission> =>
        restore(awaitCooldown(gate)).pipe(
          Effect.flatMap(() => {
            const full = gate.inFlight >= (gate.adaptive?.concurrency ?? settings.apiConcurrency)
            return Effect.as(restore(gate.permits.take(1)), full)
          }),
          Effect.flatMap((full) =>
            restore(pace(gate)).pipe(
              Effect.onInterrupt(() => gate.permits.release(1)),
              Effect.map((paced) => ({ full, paced }))
            )
          ),
          Effect.flatMap(({ full, paced }) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              gate.coolUntil <= now
                ? Effect.succeed<Admission>({ at: now, pace: paced, permits: full })
                : Effect.zipRight(gate.permits.release(1), acquirePermit(gate, restore)))
          )
        )

      /** Gate, then pace; a cooldown begun while waiting for the pace sends the caller back to the gate. */
      const awaitTurn = (gate: ProviderGate): Effect.Effect<Admission> =>
        Effect.zipRight(awaitCooldown(gate), pace(gate)).pipe(
          Effect.flatMap((paced) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              gate.coolUntil <= now
                ? Effect.succeed<Admission>({ at: now, pace: paced, permits: false })
                : awaitTurn(gate))
          )
        )

      /** Starts (or extends) the shared cooldown. */
      const coolDown = (gate: ProviderGate, until: number) =>
        Effect.suspend(() => {
          if (until <= gate.coolUntil) return Effect.void
          gate.coolUntil = until
          // Slots booked past the cooldown are void: the pace starts again at its end.
          gate.nextSlot = until
          return progress.publish({ _tag: "CoolingDown", provider: gate.provider, untilMillis: until })
        })

      /** A 429/503 for a request admitted at `admittedAt`: cooldown, backoff and slowing down. */
      const onLimited = (error: RateLimitedError, admittedAt: number | undefined) =>
        Effect.gen(function*() {
          const gate = yield* gateFor(error.provider)
          yield* progress.publish({
            _tag: "RateLimited",
            provider: error.provider,
            status: error.status,
            ...(error.retryAfterMillis === undefined ? {} : { retryAfterMillis: error.retryAfterMillis })
          })
          const now = yield* Clock.currentTimeMillis
          if (error.retryAfterMillis !== undefined) yield* coolDown(gate, now + error.retryAfterMillis)
          if (gate.adaptive === undefined) return
          const decision = gate.adaptive.limited(now, admittedAt, error.retryAfterMillis !== undefined)
          yield* publishAdjustment(gate, decision.adjustment)
          if (decision.backoffMillis !== undefined) yield* coolDown(gate, now + decision.backoffMillis)
        })

      const throttled = (error: RateLimitedError) =>
        Effect.flatMap(FiberRef.get(lastAdmittedAt), (admittedAt) => onLimited(error, admittedAt))

      return RateLimiter.of({
        settings,
        call: (provider, effect) =>
          Effect.flatMap(gateFor(provider), (gate) =>
            Effect.uninterruptibleMask((restore) =>
              restore(takeQuota(gate)).pipe(
                Effect.zipRight(acquirePermit(gate, restore)),
                Effect.tap((admission) => admitted(gate, admission)),
                Effect.flatMap((admission) =>
                  Effect.suspend(() => {
                    gate.inFlight++
                    return restore(effect)
                  }).pipe(
                    Effect.ensuring(Effect.suspend(() => {
                      gate.inFlight--
                      return gate.permits.release(1)
                    })),
                    Effect.tapError((error) => isRateLimited(error) ? onLimited(error, admission.at) : Effect.void)
                  )
                )
              )
            )),
        admit: (provider) =>
          Effect.flatMap(gateFor(provider), (gate) =>
            takeQuota(gate).pipe(
              Effect.zipRight(awaitTurn(gate)),
              Effect.flatMap((admission) =>
                FiberRef.set(lastAdmittedAt, admission.at).pipe(Effect.zipRight(admitted(gate, admission)))
              )
            )),
        throttled,
        bandwidth: (bytes) => bandwidth === undefined ? Effect.void : bandwidth.take(bytes),
        usage: Effect.sync(() =>
          [...gates.values()].map((gate) => ({
            provider: gate.provider,
            inFlight: gate.inFlight,
            concurrency: gate.adaptive?.concurrency ?? settings.apiConcurrency,
            ratePerSecond: gate.adaptive === undefined ? settings.rate?.perSecond : gate.adaptive.rate,
            coolingDownUntil: gate.coolUntil > 0 ? gate.coolUntil : undefined
          }))
        )
      })
    })
  )
