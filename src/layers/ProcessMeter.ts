import type * as Duration from "effect/Duration"
import type * as Scope from "effect/Scope"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** The process's own resource use, sampled: for the live display and the summary's peak. */
export interface ProcessMeter {
  /** Reads the resident set size now, and keeps the peak. */
  readonly sample: Effect.Effect<number>
  /** The highest RSS sampled so far. */
  readonly peakRss: Effect.Effect<number | undefined>
}

/** The resident set size in bytes, the cheap way (no heap statistics). */
export const readRss = (): number => process.memoryUsage.rss()

/**
 * A meter that samples on its own every `every` while its scope is open, so
 * the peak is caught even when nothing is drawing.
 */
export const make = (
  read: () => number = readRss,
  every: Duration.DurationInput = "250 millis"
): Effect.Effect<ProcessMeter, never, Scope.Scope> =>
  Effect.gen(function*() {
    let peak: number | undefined = undefined
    const sample = Effect.sync(() => {
      const rss = read()
      if (peak === undefined || rss > peak) peak = rss
      return rss
    })
    yield* sample
    yield* Effect.forkScoped(Effect.repeat(sample, Schedule.spaced(every)))
    return { sample, peakRss: Effect.sync(() => peak) }
  })
