import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { JobRecord } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"

/**
 * A JobStore that remembers nothing: a simulated job is always a fresh job, so
 * it has no archive to consult, no cache to answer from, and nothing to resume.
 * Journaling is the cost of surviving a crash, which a simulation never needs.
 */
export const layer: Layer.Layer<JobStore> = Layer.sync(JobStore, () => {
  const record = (inputs: ReadonlyArray<string>, settings: unknown, at: number): JobRecord => ({
    id: "1",
    inputs,
    settings,
    createdAt: at,
    updatedAt: at,
    state: "running"
  })
  let job: JobRecord | undefined
  return JobStore.of({
    startJob: (inputs, settings) =>
      Effect.map(Clock.currentTimeMillis, (at) => {
        job = record(inputs, settings, at)
        return job
      }),
    job: () => Effect.sync(() => job ?? record([], undefined, 0)),
    jobs: Effect.sync(() => (job === undefined ? [] : [job])),
    setJobState: () => Effect.void,
    journal: () => Effect.void,
    items: () => Effect.succeed([]),
    archived: () => Effect.succeedNone,
    archivedAmong: () => Effect.succeed(() => Option.none()),
    archive: () => Effect.void,
    cached: () => Effect.succeed(Option.none()),
    cachedAmong: () => Effect.succeed(new Map()),
    cache: () => Effect.void
  })
})
