import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { LimitSettings } from "../src/domain/LimitSettings.js"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { AdaptiveRate, defaultAdaptiveOptions, rateFromStretch } from "../src/engine/AdaptiveRate.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as ProgressRecorderLayer from "../src/layers/ProgressRecorder.js"
import * as RateLimiterLive from "../src/layers/RateLimiterLive.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import { RateLimitedError } from "../src/services/MusicApiError.js"
import { RateLimiter } from "../src/services/RateLimiter.js"
import { download } from "../src/programs/download.js"
import { makespan, runVirtual, testEngine } from "./support/testEngine.js"

const options = defaultAdaptiveOptions(10)

describe("AdaptiveRate: the control on its own", () => {
  it("reads a token bucket's rate off a stretch that ended in a limit", () => {
    // A bucket of 10 at 20/s, paced at 40/s from full: refused after 10 / (40 - 20) = 0.5 s, 20 let through.
    assert.closeTo(rateFromStretch([{ rate: 40, good: 20, millis: 500 }], 10)!, 20, 1e-9)
    // A slower segment first left the bucket full: it is not counted.
    assert.closeTo(rateFromStretch([{ rate: 10, good: 10, millis: 1000 }, { rate: 40, good: 20, millis: 500 }], 10)!, 20, 1e-9)
    assert.isUndefined(rateFromStretch([{ rate: 40, good: 5, millis: 500 }], 10), "fewer than the burst: no reading")
  })

  it("the first limit paces at what got through in that second, and takes it as the burst; echoes count once", () => {
    const control = new AdaptiveRate(options)
    for (let i = 0; i < 12; i++) control.admitted(i, { pace: false, permits: false })
    const first = control.limited(20, 11, true)
    // 12 sent, this one refused: 11 got through.
    assert.strictEqual(first.adjustment?.ratePerSecond, 11)
    assert.isUndefined(first.backoffMillis, "a Retry-After is the wait")
    assert.strictEqual(control.burst, 11)
    // Two more refusals for requests sent before the reaction: the burst was 9.
    assert.deepStrictEqual(control.limited(21, 10, true), {})
    assert.deepStrictEqual(control.limited(22, 9, true), {})
    assert.strictEqual(control.burst, 9)
    assert.strictEqual(control.rate, 9)
  })

  it("a service that refuses at once still gets one request a second, and grows from there", () => {
    const control = new AdaptiveRate(options)
    control.admitted(0, { pace: false, permits: false })
    assert.strictEqual(control.limited(5, 0, true).adjustment?.ratePerSecond, 1)
    let now = 1000
    for (let i = 0; i < 30; i++) control.admitted((now += 1000 / control.rate!), { pace: true, permits: false })
    assert.isAtLeast(control.rate!, 8)
  })

  it("grows while the pace holds requests back and throughput follows, then reads the rate off the next limit", () => {
    const control = new AdaptiveRate(options)
    for (let i = 0; i < 11; i++) control.admitted(i, { pace: false, permits: false })
    control.limited(11, 10, true)
    // A server of 20/s with a burst of 10, full after the cooldown: the paced stretch that follows.
    let now = 1011
    let bucket = 10
    const rates: Array<number> = []
    for (;;) {
      const rate = control.rate!
      rates.push(rate)
      now += 1000 / rate
      bucket = Math.min(10, bucket + 20 / rate)
      if (bucket < 1) {
        const decision = control.limited(now, now - 1, true)
        assert.include(decision.adjustment!.reason, "the service sustains about")
        break
      }
      bucket -= 1
      control.admitted(now, { pace: true, permits: false })
      if (now > 20_000) assert.fail("never limited")
    }
    const steps = rates.filter((r, i) => r !== rates[i - 1])
    assert.strictEqual(steps[0], 10)
    for (let i = 1; i < steps.length; i++) assert.strictEqual(steps[i], steps[i - 1]! * 2, "doubling")
    assert.closeTo(control.rate!, 20, 2.5)
    assert.isBelow(control.ceiling, 26)
  })

  it("one limit never takes more than half off the last pace that held, however low its stretch reads", () => {
    const control = new AdaptiveRate(options)
    for (let i = 0; i < 25; i++) control.admitted(i * 40, { pace: false, permits: false })
    control.limited(1000, 999, true)
    const held = control.rate!
    // A client too slow to use its pace (5 calls a second, as a sequential one with slow
    // tracks), then a limit: its stretch reads barely more than the burst, about 1/s.
    let now = 2000
    for (let i = 0; i < 30; i++) {
      now += 200
      control.admitted(now, { pace: false, permits: false })
    }
    control.limited(now, now - 1, true)
    assert.strictEqual(control.rate, held / 2, `paced at ${held}/s before the limit`)
  })

  it("takes back a growth that did not raise throughput, and holds: a plateau, not a ratchet", () => {
    const control = new AdaptiveRate(options)
    for (let i = 0; i < 21; i++) control.admitted(i, { pace: false, permits: false })
    control.limited(21, 20, true)
    const start = control.rate!
    // The pace binds, but whatever it is, 10 requests a second get out (another limit holds them).
    let now = 1000
    const seen: Array<number | undefined> = []
    for (let i = 0; i < 60; i++) {
      const adjustment = control.admitted((now += 100), { pace: true, permits: false })
      if (adjustment !== undefined) seen.push(adjustment.ratePerSecond)
    }
    assert.strictEqual(seen[0], start * 2, "grew once")
    assert.strictEqual(seen[1], start, "took it back")
    assert.isAtMost(seen.filter((r) => r === start * 2).length, 2, "and held, rather than ratcheting up")
  })

  /** A client sending `demand` requests a second under the control, to a token bucket that answers 429 + Retry-After: 1. */
  const simulate = (seconds: number, server: { rate: number; burst: number }, demand: (t: number) => number) => {
    const control = new AdaptiveRate(options)
    let now = 0
    let tokens = server.burst
    let refilled = 0
    let accepted = 0
    let limits = 0
    while (now < seconds * 1000) {
      const pace = control.rate === undefined ? 0 : 1000 / control.rate
      const step = Math.max(1000 / demand(now), pace)
      now += step
      tokens = Math.min(server.burst, tokens + ((now - refilled) * server.rate) / 1000)
      refilled = now
      control.admitted(now, { pace: pace >= 1000 / demand(now), permits: false })
      if (tokens >= 1) {
        tokens -= 1
        accepted++
      } else {
        limits++
        control.limited(now + 2, now, true)
        now += 1000
      }
    }
    return { control, accepted, limits }
  }

  it("on a 20/s server with a burst of 10, it settles near 20/s with few limits", () => {
    const fast = simulate(60, { rate: 20, burst: 10 }, () => 60)
    assert.isAtMost(fast.limits, 8)
    assert.isAbove(fast.accepted / 60, 17)
    // A client that ramps up slowly meets its first limit late, without learning the burst from it.
    const slow = simulate(60, { rate: 20, burst: 10 }, (t) => (t < 2000 ? 24 : 60))
    assert.isAtMost(slow.limits, 8)
    assert.isAbove(slow.accepted / 60, 17)
    assert.closeTo(slow.control.rate!, 20, 4)
  })

  it("without a Retry-After, fresh limits in a row back off exponentially, and a quiet epoch resets it", () => {
    const control = new AdaptiveRate(options)
    for (let i = 0; i < 11; i++) control.admitted(i, { pace: false, permits: false })
    assert.strictEqual(control.limited(11, 10, false).backoffMillis, 250)
    assert.strictEqual(control.limited(2000, 1500, false).backoffMillis, 500)
    assert.strictEqual(control.limited(4000, 3500, false).backoffMillis, 1000)
    let now = 4000
    for (let i = 0; i < 40; i++) control.admitted((now += 100), { pace: true, permits: false })
    assert.strictEqual(control.limited(now + 1, now, false).backoffMillis, 250)
  })
})

const limiterWith = (limits: LimitSettings) =>
  RateLimiterLive.layer(limits).pipe(Layer.provideMerge(ProgressRecorderLayer.layer))

const recorded = Effect.flatMap(ProgressRecorder, (recorder) => recorder.events)

/** Calls that record when they started, in virtual time. */
const startTimes = (limiter: RateLimiter["Type"], count: number) =>
  Effect.gen(function*() {
    const starts: Array<number> = []
    const fiber = yield* Effect.fork(Effect.forEach(
      Array.from({ length: count }),
      () => limiter.call("p", Effect.flatMap(TestClock.currentTimeMillis, (now) => Effect.sync(() => starts.push(now)))),
      { concurrency: "unbounded", discard: true }
    ))
    return { starts, fiber }
  })

describe("RateLimiterLive under TestClock", () => {
  it.effect("--rate paces exactly: the burst at once, then one call per 1/rate", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const { fiber, starts } = yield* startTimes(limiter, 6)
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(starts, [0, 0, 100, 200, 300, 400])
      assert.isFalse((yield* recorded).some((e) => e._tag === "RateAdjusted"), "--rate is never adjusted")
    }).pipe(Effect.provide(limiterWith({ apiConcurrency: 10, rate: { perSecond: 10, burst: 2 } }))))

  it.effect("a Retry-After holds every call until it ends, exactly", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      for (let i = 0; i < 9; i++) yield* limiter.call("p", Effect.void)
      yield* Effect.either(limiter.call("p", new RateLimitedError({ provider: "p", status: 429, retryAfterMillis: 2500 })))
      const { fiber, starts } = yield* startTimes(limiter, 3)
      yield* TestClock.adjust(Duration.millis(2499))
      assert.deepStrictEqual(starts, [])
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      // The first goes at the very end of the cooldown, the next at the pace learned: 9 got through, so 9/s.
      assert.deepStrictEqual(starts, [2500, 2612, 2723], "slots of 111.1 ms, each slept in whole milliseconds")
      const events = yield* recorded
      assert.isTrue(events.some((e) => e._tag === "CoolingDown" && e.untilMillis === 2500))
    }).pipe(Effect.provide(limiterWith({ apiConcurrency: 10 }))))

  it.effect("without a Retry-After, every call backs off exponentially, and the learned rate is published", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      // Five calls go; the sixth is refused without a Retry-After.
      for (let i = 0; i < 5; i++) yield* limiter.call("p", Effect.void)
      yield* Effect.either(limiter.call("p", new RateLimitedError({ provider: "p", status: 429 })))
      const events = yield* recorded
      const adjusted = events.filter((e): e is Extract<ProgressEvent, { _tag: "RateAdjusted" }> => e._tag === "RateAdjusted")
      assert.strictEqual(adjusted.length, 1)
      assert.strictEqual(adjusted[0]!.ratePerSecond, 5)
      assert.match(adjusted[0]!.reason, /rate limited/)
      assert.isTrue(events.some((e) => e._tag === "CoolingDown" && e.untilMillis === 250))
      const usage = yield* limiter.usage
      assert.strictEqual(usage[0]!.ratePerSecond, 5)
      // The next calls wait out the backoff, then go at the learned pace: 5/s.
      const { fiber, starts } = yield* startTimes(limiter, 3)
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(starts, [250, 450, 650])
    }).pipe(Effect.provide(limiterWith({ apiConcurrency: 10 }))))

  it.effect("a transfer admitted before a reaction, refused after it, is an echo: counted once", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const admitted = yield* Deferred.make<void>()
      const early = yield* Effect.fork(
        limiter.admit("p").pipe(
          Effect.zipRight(Deferred.succeed(admitted, undefined)),
          Effect.zipRight(Effect.sleep(Duration.millis(50))),
          Effect.zipRight(limiter.throttled(new RateLimitedError({ provider: "p", status: 429, retryAfterMillis: 1000 })))
        )
      )
      yield* Deferred.await(admitted)
      yield* Effect.either(limiter.call("p", new RateLimitedError({ provider: "p", status: 429, retryAfterMillis: 1000 })))
      yield* TestClock.adjust(Duration.millis(100))
      yield* Fiber.join(early)
      const adjusted = (yield* recorded).filter((e) => e._tag === "RateAdjusted")
      assert.strictEqual(adjusted.length, 1)
    }).pipe(Effect.provide(limiterWith({ apiConcurrency: 10 }))))
})

describe("adaptive control on the sim, in virtual time", () => {
  // A 20 r/s server with a burst of 10 that answers 429 with Retry-After; 5 ms round trips.
  const server = SimProfile.exact({ rate: 20, burst: 10, latency: { _tag: "Fixed", millis: 5 }, bandwidth: Infinity })
  const job = download(["sim:artist:1", "sim:artist:2", "sim:artist:3"], defaultJobSettings)

  const measure = Effect.gen(function*() {
    const report = yield* runVirtual(job)
    const events = yield* recorded
    const stats = yield* (yield* SimServer).stats
    const needed = stats.requests - stats.rateLimited
    return { report, events, stats, ratio: makespan(events) / (((needed - 10) / 20) * 1000) }
  })

  it.effect("finds the limit by itself: within 1.3x of the lower bound, with few 429s", () =>
    Effect.gen(function*() {
      const { events, ratio, report, stats } = yield* measure
      assert.strictEqual(report.failed, 0)
      assert.isBelow(ratio, 1.3, `ratio ${ratio}`)
      assert.isAtMost(stats.rateLimited, 12)
      const learned = events.filter((e): e is Extract<ProgressEvent, { _tag: "RateAdjusted" }> => e._tag === "RateAdjusted")
      const last = learned[learned.length - 1]!
      assert.closeTo(last.ratePerSecond!, 20, 4, "it settles near the server's rate")
    }).pipe(Effect.provide(testEngine({ profile: server }))), 120_000)

  it.effect("with --rate set to the server's limit it paces exactly and draws no 429", () =>
    Effect.gen(function*() {
      const { ratio, report, stats } = yield* measure
      assert.strictEqual(report.failed, 0)
      assert.strictEqual(stats.rateLimited, 0)
      assert.isBelow(ratio, 1.1, `ratio ${ratio}`)
    }).pipe(Effect.provide(testEngine({ profile: server, limits: { apiConcurrency: 10, rate: { perSecond: 20, burst: 2 } } }))), 120_000)
})
