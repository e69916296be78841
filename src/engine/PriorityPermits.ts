import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"

/** Lexicographic priority: lower runs first, e.g. `[albumSeq, turnInAlbum]`. */
export type Priority = ReadonlyArray<number>

const compare = (a: Priority, b: Priority): number => {
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * A cap of its own within the level, for one album's tracks: a permit of the
 * level is granted together with one of its group's, never one without the other.
 */
export interface GroupLimit {
  free: number
}

export const makeGroupLimit = (capacity: number): GroupLimit => ({ free: capacity })

interface Waiter {
  readonly priority: Priority
  readonly group: GroupLimit | undefined
  readonly latch: Deferred.Deferred<void>
  granted: boolean
}

/**
 * A semaphore whose waiters are served by priority, then arrival, with no
 * barging: a released permit goes straight to the best waiter. Effect's
 * Semaphore lets a newcomer take a freed permit first, which would let late
 * albums overtake early ones; here albums that started first finish first.
 *
 * A waiter may name a GroupLimit: it is served only while its group has room, and
 * takes both at once. Taking the group's permit first, from a semaphore of its
 * own, let the level's permit go to a later album while the next track of the
 * album that freed it was still waking up.
 */
export interface PriorityPermits {
  readonly capacity: number
  /** Permits held right now. */
  readonly inUse: () => number
  readonly withPermit: (
    priority: Priority,
    group?: GroupLimit
  ) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const make = (capacity: number): Effect.Effect<PriorityPermits> =>
  Effect.sync(() => {
    let free = capacity
    const waiters: Array<Waiter> = []

    const fits = (group: GroupLimit | undefined) => group === undefined || group.free > 0

    const grant = (group: GroupLimit | undefined) => {
      free--
      if (group !== undefined) group.free--
    }

    /** Serves the best waiters whose group has room, while permits are free. */
    const serve = () => {
      for (let i = 0; i < waiters.length && free > 0;) {
        const waiter = waiters[i]!
        if (!fits(waiter.group)) {
          i++
          continue
        }
        waiters.splice(i, 1)
        grant(waiter.group)
        waiter.granted = true
        Deferred.unsafeDone(waiter.latch, Effect.void)
      }
    }

    const release = (group: GroupLimit | undefined) => {
      free++
      if (group !== undefined) group.free++
      serve()
    }

    const enqueue = (waiter: Waiter) => {
      let i = waiters.length
      while (i > 0 && compare(waiters[i - 1]!.priority, waiter.priority) > 0) i--
      waiters.splice(i, 0, waiter)
    }

    const take = (
      priority: Priority,
      group: GroupLimit | undefined,
      restore: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    ) =>
      Effect.suspend(() => {
        if (free > 0 && fits(group)) {
          grant(group)
          return Effect.void
        }
        return Effect.flatMap(Deferred.make<void>(), (latch) => {
          const waiter: Waiter = { priority, group, latch, granted: false }
          enqueue(waiter)
          return restore(Deferred.await(latch)).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                if (waiter.granted) release(group)
                else waiters.splice(waiters.indexOf(waiter), 1)
              })
            )
          )
        })
      })

    return {
      capacity,
      inUse: () => capacity - free,
      withPermit: (priority, group) => (self) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(
            take(priority, group, restore),
            restore(self).pipe(Effect.ensuring(Effect.sync(() => release(group))))
          )
        )
    }
  })
