import { Deferred, Effect } from "effect"

/** Lexicographic priority: lower runs first, e.g. `[albumSeq, trackIndex]`. */
export type Priority = ReadonlyArray<number>

const compare = (a: Priority, b: Priority): number => {
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

interface Waiter {
  readonly priority: Priority
  readonly latch: Deferred.Deferred<void>
  granted: boolean
}

/**
 * A semaphore whose waiters are served by priority, then arrival, with no
 * barging: a released permit goes straight to the best waiter. Effect's
 * Semaphore lets a newcomer take a freed permit first, which would let late
 * albums overtake early ones; here albums that started first finish first.
 */
export interface PriorityPermits {
  readonly capacity: number
  /** Permits held right now. */
  readonly inUse: () => number
  readonly withPermit: (priority: Priority) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const make = (capacity: number): Effect.Effect<PriorityPermits> =>
  Effect.sync(() => {
    let free = capacity
    const waiters: Array<Waiter> = []

    const release = () => {
      const next = waiters.shift()
      if (next === undefined) {
        free++
        return
      }
      next.granted = true
      Deferred.unsafeDone(next.latch, Effect.void)
    }

    const enqueue = (waiter: Waiter) => {
      let i = waiters.length
      while (i > 0 && compare(waiters[i - 1]!.priority, waiter.priority) > 0) i--
      waiters.splice(i, 0, waiter)
    }

    const take = (priority: Priority, restore: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        if (free > 0) {
          free--
          return Effect.void
        }
        return Effect.flatMap(Deferred.make<void>(), (latch) => {
          const waiter: Waiter = { priority, latch, granted: false }
          enqueue(waiter)
          return restore(Deferred.await(latch)).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                if (waiter.granted) release()
                else waiters.splice(waiters.indexOf(waiter), 1)
              })
            )
          )
        })
      })

    return {
      capacity,
      inUse: () => capacity - free,
      withPermit: (priority) => (self) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(take(priority, restore), restore(self).pipe(Effect.ensuring(Effect.sync(release))))
        )
    }
  })
