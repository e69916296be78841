import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * A token bucket for costs of any size (bytes, not just calls), kept as a
 * theoretical arrival time (GCRA). Each take reserves its slot at once and then
 * sleeps, so concurrent takers are served in order and never exceed
 * `burst + perSecond * t` units in any window of t seconds.
 */
export interface Pacer {
  readonly take: (cost: number) => Effect.Effect<void>
}

export const make = (perSecond: number, burst: number): Effect.Effect<Pacer> =>
  Effect.sync(() => {
    const millisPerUnit = 1000 / perSecond
    const tolerance = burst * millisPerUnit
    let arrival = Number.NEGATIVE_INFINITY
    return {
      take: (cost) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const start = Math.max(arrival, now)
          arrival = start + cost * millisPerUnit
          const wait = start - tolerance - now
          return wait > 0 ? Effect.sleep(Duration.millis(wait)) : Effect.void
        })
    }
  })
