import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Fiber, Random } from "effect"
import type { JobSettings } from "../src/domain/JobSettings.js"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { download } from "../src/programs/download.js"
import * as VirtualTime from "../src/simulation/VirtualTime.js"
import { makespan, runVirtual, testEngine } from "./support/testEngine.js"

const settings = (overrides: Partial<JobSettings> = {}): JobSettings => ({ ...defaultJobSettings, ...overrides })
const recorded = Effect.flatMap(ProgressRecorder, (recorder) => recorder.events)

describe("VirtualTime", () => {
  it.effect("sleeps wake in order of their instants, and time jumps straight there", () =>
    Effect.gen(function*() {
      const woke: Array<string> = []
      const at = (name: string, millis: number) =>
        Effect.zipRight(Effect.sleep(millis), Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => woke.push(`${name}@${now}`))))
      const end = yield* VirtualTime.run(
        Effect.zipRight(
          Effect.all([at("c", 3_600_000), at("a", 10), at("b", 10), at("d", 0)], { concurrency: "unbounded" }),
          Clock.currentTimeMillis
        )
      )
      // A zero sleep costs one nanosecond, as on a real clock time always moves on.
      assert.deepStrictEqual(woke, ["d@0.000001", "a@10", "b@10", "c@3600000"])
      assert.strictEqual(end, 3_600_000)
    }))

  it.effect("a deadlock is reported, not waited for", () =>
    Effect.gen(function*() {
      const result = yield* VirtualTime.run(Effect.zipRight(Effect.sleep(5), Effect.flatMap(Deferred.make<void>(), Deferred.await))).pipe(Effect.flip)
      assert.strictEqual(result._tag, "VirtualTimeStuck")
      assert.strictEqual(result.reason, "deadlock")
      assert.strictEqual(result.atMillis, 5)
    }))

  it.effect("a time limit stops a run that goes on, and interrupts it", () =>
    Effect.gen(function*() {
      let finalized = false
      const result = yield* VirtualTime.run(
        Effect.forever(Effect.sleep(1000)).pipe(Effect.ensuring(Effect.sync(() => { finalized = true }))),
        { limitMillis: 10_000 }
      ).pipe(Effect.flip)
      assert.strictEqual(result.reason, "time-limit")
      assert.strictEqual(result.atMillis, 10_000)
      assert.isTrue(finalized)
    }))

  it.effect("forked fibers and interruption run in virtual time", () =>
    Effect.gen(function*() {
      const out = yield* VirtualTime.run(Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.sleep(100_000).pipe(Effect.onInterrupt(() => Effect.sleep(50))))
        yield* Effect.sleep(10)
        yield* Fiber.interrupt(fiber)
        return yield* Clock.currentTimeMillis
      }))
      assert.strictEqual(out, 60)
    }))
})

describe("download in VirtualTime agrees with TestClock", () => {
  const exactly = SimProfile.exact({ bandwidth: Infinity })
  for (const tracks of [1, 3, 5, 10]) {
    it.effect(`an album of 10 tracks with --tracks ${tracks}: the same makespan and outcomes under both clocks`, () =>
      Effect.gen(function*() {
        const job = Effect.gen(function*() {
          const report = yield* download(["sim:album:11"], settings({ tracks, tracksPerAlbum: tracks }))
          return { report, events: yield* recorded }
        })
        const virtual = yield* VirtualTime.run(
          job.pipe(Effect.withRandom(Random.make(42)), Effect.provide(testEngine({ profile: exactly })))
        )
        const test = yield* runVirtual(job.pipe(Effect.provide(testEngine({ profile: exactly }))), 42, Duration.millis(10))
        assert.strictEqual(virtual.report.done, 10)
        assert.strictEqual(makespan(virtual.events), makespan(test.events))
        const outcome = (events: ReadonlyArray<ProgressEvent>) =>
          events.flatMap((e) => e._tag === "ItemFinished" ? [`${e.item} ${e.state} ${e.at - events[0]!.at}`] : []).sort()
        assert.deepStrictEqual(outcome(virtual.events), outcome(test.events))
      }))
  }

  it.effect("a faulty, rate-limited artist gives the same event log every time", () =>
    Effect.gen(function*() {
      const profile = SimProfile.make({ errorRate: 0.05, rate: 20, burst: 5, seed: 9 })
      // A fresh Random per run: one seeded instance shared by two runs would go on where the first stopped.
      const job = Effect.suspend(() =>
        Effect.gen(function*() {
          yield* download(["sim:artist:1"], settings())
          return yield* recorded
        }).pipe(Effect.withRandom(Random.make(42)))
      )
      const first = yield* VirtualTime.run(job.pipe(Effect.provide(testEngine({ profile }))))
      const second = yield* VirtualTime.run(job.pipe(Effect.provide(testEngine({ profile }))))
      assert.isAbove(first.filter((e) => e._tag === "RateLimited").length, 0)
      assert.isAbove(first.filter((e) => e._tag === "Retrying").length, 0)
      assert.deepStrictEqual(second, first)
    }))
})
