import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import type { ProgressEvent } from "../domain/ProgressEvent.js"
import * as EngineLayer from "../layers/EngineLayer.js"
import * as ProgressLive from "../layers/ProgressLive.js"
import { SimServer } from "../layers/sim/SimServer.js"
import type { SimRequest, SimStats } from "../layers/sim/SimServer.js"
import * as SimProvider from "../layers/sim/SimProvider.js"
import * as StorageMemory from "../layers/StorageMemory.js"
import { download } from "../programs/download.js"
import type { JobReport } from "../programs/JobReport.js"
import { InvalidError } from "../services/MusicApiError.js"
import { Progress } from "../services/Progress.js"
import type { Storage } from "../services/Storage.js"
import { Transport } from "../services/Transport.js"
import type { Scenario } from "./Scenario.js"
import * as JobStoreNone from "./JobStoreNone.js"
import * as StorageTally from "./StorageTally.js"
import * as TaggerSim from "./TaggerSim.js"
import { Timeline } from "./Timeline.js"
import * as VirtualTime from "./VirtualTime.js"

/** What one simulated job left behind, for reports and the tuner. */
export interface SimulationRun {
  readonly scenario: Scenario
  readonly report: JobReport
  readonly timeline: Timeline
  readonly stats: SimStats
  /** Every request the service saw, in order of arrival. */
  readonly requests: ReadonlyArray<SimRequest>
  /** The work the virtual clock did: tasks run and timers fired. */
  readonly work: { readonly tasks: number; readonly timers: number }
}

/** The sim serves bytes itself; a URL body would mean a provider the simulation does not model. */
const noTransport = Layer.succeed(Transport, {
  open: (provider) => new InvalidError({ provider, reason: "a simulation fetches no URLs" })
})

/**
 * The engine on the simulated service, as `lyra simulate` runs it: the sim
 * provider (with SimServer to read its books), a library that keeps only sizes
 * for virtual bytes (in memory, with StorageMemory, for real ones), a tagger
 * that writes nothing (so covers and lyrics are fetched as `lyra download`
 * fetches them), progress handed to `onEvent`, and a JobStore that remembers
 * nothing, since a simulated job is always a fresh one. Run it in virtual time.
 */
export const simulationLayer = (scenario: Scenario, onEvent: (event: ProgressEvent) => void) => {
  const sim = SimProvider.registryLayer(scenario.profile)
  // Virtual bytes carry no checksum and need not be kept: a tally of sizes is the whole library.
  const storage: Layer.Layer<Storage | StorageMemory.StorageMemory> = scenario.profile.payload === "virtual"
    ? StorageTally.layer
    : StorageMemory.layer()
  return EngineLayer.make({
    providers: sim,
    storage,
    progress: Layer.scoped(Progress, ProgressLive.make({ onEvent })),
    transport: noTransport,
    store: JobStoreNone.layer,
    limits: scenario.limits,
    retry: scenario.retry
  }).pipe(
    Layer.provideMerge(Layer.mergeAll(sim, storage)),
    Layer.merge(scenario.tagging === false ? Layer.empty : TaggerSim.layer(scenario.tagging ?? {}))
  )
}

/**
 * Runs `download` (the program `lyra download` runs) on the simulated service
 * in virtual time: the job plays out with exact timings in the time its work
 * takes. The engine's Random is seeded from the profile, so the same scenario
 * gives the same run, event for event. A job that would deadlock or run past
 * `limitMillis` of virtual time fails with VirtualTimeStuck.
 */
export const simulate = (
  scenario: Scenario,
  options: { readonly limitMillis?: number; readonly onEvent?: (event: ProgressEvent) => void } = {}
) =>
  Effect.suspend(() => {
    const timeline = new Timeline()
    const onEvent = options.onEvent
    const engine = simulationLayer(
      scenario,
      onEvent === undefined ? timeline.record : (event) => {
        timeline.record(event)
        onEvent(event)
      }
    )
    let time: VirtualTime.VirtualTime | undefined
    const job = Effect.gen(function*() {
      const server = yield* SimServer
      const report = yield* download(scenario.inputs, scenario.settings)
      return { report, stats: yield* server.stats, requests: yield* server.requests }
    }).pipe(
      Effect.provide(engine),
      Effect.withRandom(Random.make(scenario.profile.seed)),
      // Spans cost time per traced call and nothing reads them here.
      Effect.withTracerEnabled(false)
    )
    return VirtualTime.run(job, {
      ...(options.limitMillis === undefined ? {} : { limitMillis: options.limitMillis }),
      onStart: (started) => {
        time = started
      }
    }).pipe(
      Effect.map((result): SimulationRun => ({
        scenario,
        timeline,
        ...result,
        work: { tasks: time?.tasksRun ?? 0, timers: time?.timersFired ?? 0 }
      }))
    )
  })
