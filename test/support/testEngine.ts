import { Duration, Effect, Fiber, Layer, Option, Random, TestClock } from "effect"
import type { LimitSettings } from "../../src/domain/LimitSettings.js"
import type { ProgressEvent } from "../../src/domain/ProgressEvent.js"
import { NodeHttpClient } from "@effect/platform-node"
import * as EngineLayer from "../../src/layers/EngineLayer.js"
import * as HttpTransportLive from "../../src/layers/HttpTransportLive.js"
import * as ProgressRecorder from "../../src/layers/ProgressRecorder.js"
import type { SimProfile } from "../../src/layers/sim/SimProfile.js"
import * as SimProvider from "../../src/layers/sim/SimProvider.js"
import * as StorageMemory from "../../src/layers/StorageMemory.js"
import type { RetryPolicy } from "../../src/services/RetryPolicy.js"

export interface TestEngineOptions {
  readonly profile: SimProfile
  readonly limits?: LimitSettings
  readonly retry?: RetryPolicy["Type"]
}

/** The whole engine on the sim, in memory, recording every event: for runs under TestClock. */
export const testEngine = (options: TestEngineOptions) => {
  const sim = SimProvider.registryLayer(options.profile)
  const storage = StorageMemory.layer()
  return EngineLayer.make({
    providers: sim,
    storage,
    progress: ProgressRecorder.layer,
    transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)),
    limits: options.limits,
    retry: options.retry
  }).pipe(
    Layer.merge(storage),
    Layer.provideMerge(Layer.mergeAll(sim, ProgressRecorder.layer))
  )
}

/**
 * Runs `effect` to its end in virtual time: forks it, then moves the TestClock
 * forward until it is done. Random is seeded, so jitter is exact.
 */
export const runVirtual = <A, E, R>(effect: Effect.Effect<A, E, R>, seed = 42, step = Duration.seconds(1)) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.withRandom(effect, Random.make(seed)))
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

/** Virtual milliseconds from JobStarted to JobFinished. */
export const makespan = (events: ReadonlyArray<ProgressEvent>): number => {
  const start = events.find((e) => e._tag === "JobStarted")
  const end = events.find((e) => e._tag === "JobFinished")
  if (start === undefined || end === undefined) throw new Error("the job did not start and finish")
  return end.at - start.at
}
