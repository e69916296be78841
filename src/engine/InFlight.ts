import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/**
 * Shares one run of an effect between every caller with the same key, for the
 * life of a job: the first caller runs it, later callers wait for its exit.
 * Callers that wait hold nothing, so sharing never adds a lock cycle.
 */
export interface InFlight<A, E> {
  /** Runs `effect` if `key` is new; `owner` tells the caller whether it ran it. */
  readonly run: <R>(
    key: string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<{ readonly value: A; readonly owner: boolean }, E, R>
  /** Records `value` as the run of `key`, if `key` is new; false if a run was already there. */
  readonly settle: (key: string, value: A) => boolean
}

export const make = <A, E>(): Effect.Effect<InFlight<A, E>> =>
  Effect.sync(() => {
    const entries = new Map<string, Deferred.Deferred<A, E>>()
    return {
      run: (key, effect) =>
        Effect.suspend(() => {
          const existing = entries.get(key)
          if (existing !== undefined) {
            return Effect.map(Deferred.await(existing), (value) => ({ value, owner: false }))
          }
          const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
          entries.set(key, deferred)
          return effect.pipe(
            Effect.exit,
            Effect.tap((exit) => Deferred.done(deferred, exit)),
            Effect.flatten,
            Effect.map((value) => ({ value, owner: true })),
            Effect.onInterrupt(() => Deferred.interrupt(deferred))
          )
        }),
      settle: (key, value) => {
        if (entries.has(key)) return false
        const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
        Deferred.unsafeDone(deferred, Effect.succeed(value))
        entries.set(key, deferred)
        return true
      }
    }
  })
