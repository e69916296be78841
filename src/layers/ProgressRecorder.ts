import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ProgressEvent } from "../domain/ProgressEvent.js"
import { Progress } from "../services/Progress.js"
import * as ProgressLive from "./ProgressLive.js"

/** Reads back every event a test's program published, in order, with its stamped time. */
export class ProgressRecorder extends Context.Tag("lyra/ProgressRecorder")<ProgressRecorder, {
  readonly events: Effect.Effect<ReadonlyArray<ProgressEvent>>
}>() {}

/**
 * The live Progress, plus a log of every event. Recording happens inside
 * `publish`, so an event is readable as soon as its publish has returned.
 */
export const make = Effect.gen(function*() {
  const recorded: Array<ProgressEvent> = []
  const progress = yield* ProgressLive.make({ onEvent: (event) => recorded.push(event) })
  const events: Effect.Effect<ReadonlyArray<ProgressEvent>> = Effect.sync(() => recorded.slice())
  return { progress, events } as const
})

/** Provides both Progress and ProgressRecorder, sharing one log. */
export const layer: Layer.Layer<Progress | ProgressRecorder> = Layer.scopedContext(
  Effect.map(make, ({ events, progress }) =>
    Context.make(Progress, progress).pipe(Context.add(ProgressRecorder, ProgressRecorder.of({ events })))
  )
)
