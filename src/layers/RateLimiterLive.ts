import { Clock, Duration, Effect, Layer, RateLimiter as EffectRateLimiter, Scope } from "effect"
import type { LimitSettings } from "../domain/LimitSettings.js"
import * as Pacer from "../engine/Pacer.js"
import type { RateLimitedError } from "../services/MusicApiError.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import { QuotaExhaustedError } from "../services/RateLimiterError.js"

/** The admission state of one provider. */
interface ProviderGate {
  readonly provider: string
  readonly permits: Effect.Semaphore
  readonly pace: EffectRateLimiter.RateLimiter | undefined
  /** Every call waits until this Clock time (a shared Retry-After). */
  coolUntil: number
  windowStart: number | undefined
  usedInWindow: number
  inFlight: number
}

const isRateLimited = (error: unknown): error is RateLimitedError =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "RateLimitedError"

/**
 * The live RateLimiter: a shared cooldown gate, a quota, pacing on effect's
 * token-bucket RateLimiter and a Semaphore for the concurrency cap, per provider;
 * plus one byte pacer for the total bandwidth cap.
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
            pace: settings.rate === undefined ? undefined : yield* EffectRateLimiter.make({
              algorithm: "token-bucket",
              limit: settings.rate.burst,
              interval: Duration.millis(settings.rate.burst * 1000 / settings.rate.perSecond)
            }).pipe(Scope.extend(scope)),
            coolUntil: 0,
            windowStart: undefined,
            usedInWindow: 0,
            inFlight: 0
          }
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

      const pace = (gate: ProviderGate) => gate.pace === undefined ? Effect.void : gate.pace(Effect.void)

      /** Gate, then pace, then a permit; a cooldown begun meanwhile sends the fiber back to the gate without it. */
      const acquirePermit = (
        gate: ProviderGate,
        restore: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
      ): Effect.Effect<void> =>
        restore(Effect.zipRight(awaitCooldown(gate), pace(gate))).pipe(
          Effect.zipRight(restore(gate.permits.take(1))),
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.flatMap((now) =>
            gate.coolUntil <= now
              ? Effect.void
              : Effect.zipRight(gate.permits.release(1), acquirePermit(gate, restore))
          )
        )

      const throttled = (error: RateLimitedError) =>
        Effect.gen(function*() {
          const gate = yield* gateFor(error.provider)
          yield* progress.publish({
            _tag: "RateLimited",
            provider: error.provider,
            status: error.status,
            ...(error.retryAfterMillis === undefined ? {} : { retryAfterMillis: error.retryAfterMillis })
          })
          if (error.retryAfterMillis === undefined) return
          const now = yield* Clock.currentTimeMillis
          const until = now + error.retryAfterMillis
          if (until <= gate.coolUntil) return
          gate.coolUntil = until
          yield* progress.publish({ _tag: "CoolingDown", provider: error.provider, untilMillis: until })
        })

      return RateLimiter.of({
        settings,
        call: (provider, effect) =>
          Effect.flatMap(gateFor(provider), (gate) =>
            Effect.uninterruptibleMask((restore) =>
              restore(takeQuota(gate)).pipe(
                Effect.zipRight(acquirePermit(gate, restore)),
                Effect.zipRight(
                  Effect.suspend(() => {
                    gate.inFlight++
                    return restore(effect)
                  }).pipe(
                    Effect.ensuring(Effect.suspend(() => {
                      gate.inFlight--
                      return gate.permits.release(1)
                    }))
                  )
                ),
                Effect.tapError((error) => isRateLimited(error) ? throttled(error) : Effect.void)
              )
            )),
        admit: (provider) =>
          Effect.flatMap(gateFor(provider), (gate) =>
            takeQuota(gate).pipe(Effect.zipRight(awaitCooldown(gate)), Effect.zipRight(pace(gate)))),
        throttled,
        bandwidth: (bytes) => bandwidth === undefined ? Effect.void : bandwidth.take(bytes),
        usage: Effect.sync(() =>
          [...gates.values()].map((gate) => ({
            provider: gate.provider,
            inFlight: gate.inFlight,
            concurrency: settings.apiConcurrency,
            ratePerSecond: settings.rate?.perSecond,
            coolingDownUntil: gate.coolUntil > 0 ? gate.coolUntil : undefined
          }))
        )
      })
    })
  )
