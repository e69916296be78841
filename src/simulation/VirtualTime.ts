import type * as Exit from "effect/Exit"
import type * as Scheduler from "effect/Scheduler"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/** A sleep waiting for its instant; `wake` is dropped when it is cancelled. */
interface Timer {
  readonly due: number
  readonly seq: number
  wake: (() => void) | undefined
}

const earlier = (a: Timer, b: Timer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)

/** A binary min-heap of timers by (due, seq): equal instants wake in the order they were set. */
class TimerHeap {
  private readonly heap: Array<Timer> = []

  get size(): number {
    return this.heap.length
  }

  push(timer: Timer): void {
    const heap = this.heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  peek(): Timer | undefined {
    return this.heap[0]
  }

  pop(): Timer | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let best = i
      if (left < heap.length && earlier(heap[left]!, heap[best]!)) best = left
      if (right < heap.length && earlier(heap[right]!, heap[best]!)) best = right
      if (best === i) break
      ;[heap[i], heap[best]] = [heap[best]!, heap[i]!]
      i = best
    }
    return top
  }
}

/**
 * What a zero sleep costs: one nanosecond, the Clock's resolution. Duration rounds any wait under
 * half a nanosecond to zero, so a loop that sleeps until `deadline > now` stops holding would spin
 * at one instant forever if a zero sleep woke at the same instant; on a real clock time moves on.
 */
const minimumStep = 1e-6

/** Why a virtual run stopped before its fiber ended. */
export class VirtualTimeStuck extends Data.TaggedError("VirtualTimeStuck")<{
  /** `deadlock`: every fiber waits and no timer is set; `time-limit`: the next timer is past the limit. */
  readonly reason: "deadlock" | "time-limit"
  /** The virtual time it stopped at, in milliseconds. */
  readonly atMillis: number
}> {
  override get message(): string {
    return this.reason === "deadlock"
      ? `deadlock at ${this.atMillis} ms: every fiber waits and no timer is set`
      : `still running at ${this.atMillis} ms, the time limit`
  }
}

/** Real time, for the real waits: the grace period for work from outside virtual time, and `breathe`. */
const liveClock = Clock.make()

/**
 * Lets the event loop run between slices: a timer, not a microtask, so that
 * signals (Ctrl-C) and I/O are heard while a long simulation runs.
 */
const breathe = Effect.sleep(Duration.zero).pipe(Effect.withClock(liveClock))

type Status = "done" | "budget" | "idle" | "limit"

/**
 * A deterministic virtual clock and the scheduler that drives it.
 *
 * Fibers that run under `scheduler` have their tasks queued here instead of on
 * the event loop, and `clock`'s sleeps are timers in a heap. `advance` runs the
 * queued tasks in order, synchronously; when none is left, every fiber is
 * waiting, so it moves the clock straight to the earliest timer and wakes it.
 * Nothing waits for real time, so a run costs only the work its fibers do, and
 * the same program gives the same interleaving every time.
 */
export class VirtualTime {
  private tasks: Array<Scheduler.Task> = []
  private head = 0
  private readonly timers = new TimerHeap()
  private seq = 0
  /** True while `advance` runs tasks: only then may a fiber yield to the queue. */
  private draining = false
  /** Work done so far, for benchmarks. */
  tasksRun = 0
  timersFired = 0

  constructor(private now: number = 0) {}

  get currentMillis(): number {
    return this.now
  }

  /** Called once when a task arrives while the queue is empty (from outside: a promise, I/O). */
  private onTask: (() => void) | undefined = undefined

  readonly scheduler: Scheduler.Scheduler = {
    scheduleTask: (task) => {
      this.tasks.push(task)
      const onTask = this.onTask
      if (onTask !== undefined) {
        this.onTask = undefined
        onTask()
      }
    },
    // Fibers take turns after a quota of operations, as on the default scheduler. Outside
    // `advance` (e.g. the driving fiber passing through) a yield would park it in a queue nobody drains.
    shouldYield: (fiber) => this.draining && fiber.currentOpCount > 2048 ? 0 : false
  }

  readonly clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => this.now,
    currentTimeMillis: Effect.sync(() => this.now),
    unsafeCurrentTimeNanos: () => BigInt(Math.round(this.now * 1_000_000)),
    currentTimeNanos: Effect.sync(() => BigInt(Math.round(this.now * 1_000_000))),
    sleep: (duration) =>
      Effect.async<void>((resume) => {
        const millis = Duration.toMillis(duration)
        // An endless sleep never wakes: it sets no timer, so it cannot hide a deadlock.
        if (!Number.isFinite(millis)) return
        const timer: Timer = { due: this.now + (millis > 0 ? millis : minimumStep), seq: this.seq++, wake: () => resume(Effect.void) }
        this.timers.push(timer)
        return Effect.sync(() => {
          timer.wake = undefined
        })
      })
  } as Clock.Clock

  /**
   * Runs tasks, and timers when no task is left, until `done()` holds with no
   * task queued, `budget` tasks have run, nothing is left to do, or the next
   * timer is later than `limitMillis`.
   */
  advance(done: () => boolean, budget: number, limitMillis: number): Status {
    this.draining = true
    try {
      let ran = 0
      for (;;) {
        while (this.head < this.tasks.length) {
          if (ran >= budget) return "budget"
          const task = this.tasks[this.head]!
          this.tasks[this.head++] = undefined as never
          ran++
          this.tasksRun++
          task()
        }
        this.tasks = []
        this.head = 0
        if (done()) return "done"
        // Timers count against the budget too, so a run of timers alone still returns to the caller.
        if (ran++ >= budget) return "budget"
        const timer = this.nextTimer()
        if (timer === undefined) return "idle"
        if (timer.due > limitMillis) return "limit"
        this.timers.pop()
        this.now = Math.max(this.now, timer.due)
        this.timersFired++
        const wake = timer.wake!
        timer.wake = undefined
        wake()
      }
    } finally {
      this.draining = false
    }
  }

  /** Calls `f` when the next task is scheduled; the canceller undoes it. */
  whenTask(f: () => void): () => void {
    if (this.head < this.tasks.length) {
      f()
      return () => {}
    }
    this.onTask = f
    return () => {
      if (this.onTask === f) this.onTask = undefined
    }
  }

  /** The earliest timer still set, with cancelled ones dropped. */
  private nextTimer(): Timer | undefined {
    for (;;) {
      const timer = this.timers.peek()
      if (timer === undefined || timer.wake !== undefined) return timer
      this.timers.pop()
    }
  }
}

export interface RunOptions {
  /** The virtual time the run starts at, in milliseconds (default 0). */
  readonly startMillis?: number
  /** Stop with `VirtualTimeStuck` when the run would go past this virtual time. */
  readonly limitMillis?: number
  /** Tasks per slice between yields to the real event loop, which keeps the process responsive. */
  readonly sliceTasks?: number
  /**
   * When every fiber waits and no timer is set, something outside virtual time (a promise, I/O)
   * may still wake one: wait this many real milliseconds for it before calling it a deadlock (default 2000).
   */
  readonly graceMillis?: number
  /** Receives the VirtualTime before the run starts (for its counters). */
  readonly onStart?: (time: VirtualTime) => void
}

/**
 * Runs `effect` in virtual time: its clock is a VirtualTime's and its fibers
 * (every fiber it forks, too) are scheduled by it. Time moves only when every
 * fiber waits, straight to the next timer, so a job of hours plays out in the
 * milliseconds its work costs. Fails with `VirtualTimeStuck` on a deadlock or
 * past `limitMillis`, after interrupting the effect. Interrupting the caller
 * interrupts the effect, and its finalizers run in virtual time.
 */
export const run = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: RunOptions = {}
): Effect.Effect<A, E | VirtualTimeStuck, R> =>
  Effect.suspend(() => {
    const time = new VirtualTime(options.startMillis ?? 0)
    options.onStart?.(time)
    const limit = options.limitMillis ?? Number.POSITIVE_INFINITY
    const slice = options.sliceTasks ?? 2_000
    const grace = options.graceMillis ?? 2000
    return Effect.forkDaemon(effect).pipe(
      Effect.withScheduler(time.scheduler),
      Effect.withClock(time.clock),
      Effect.flatMap((fiber) => {
        const ended = () => fiber.unsafePoll() !== null
        /**
         * Interrupts the fiber and runs its finalizers to their end (an hour of virtual time at most),
         * a slice at a time, so the process still hears a second Ctrl-C meanwhile.
         */
        const stop = Effect.suspend(() => {
          fiber.unsafeInterruptAsFork(FiberId.none)
          const horizon = time.currentMillis + 3_600_000
          const drain: Effect.Effect<void> = Effect.suspend(() =>
            time.advance(ended, slice, horizon) === "budget" ? Effect.zipRight(breathe, drain) : Effect.void
          )
          return drain
        })
        const stuck = (reason: "deadlock" | "time-limit") =>
          Effect.zipRight(stop, new VirtualTimeStuck({ reason, atMillis: time.currentMillis }))
        /** Whether a task came from outside within the grace period (real time, on a live clock). */
        const awaitOutside = Effect.race(
          Effect.as(Effect.async<void>((resume) => Effect.sync(time.whenTask(() => resume(Effect.void)))), true),
          Effect.as(Effect.sleep(grace), false).pipe(Effect.withClock(liveClock))
        )
        const loop: Effect.Effect<A, E | VirtualTimeStuck> = Effect.suspend(() => {
          const status = time.advance(ended, slice, limit)
          switch (status) {
            case "done":
              return Effect.flatten(Effect.sync(() => fiber.unsafePoll() as Exit.Exit<A, E>))
            case "budget":
              return Effect.zipRight(breathe, loop)
            case "idle":
              return Effect.flatMap(awaitOutside, (woken) => woken ? loop : stuck("deadlock"))
            case "limit":
              return stuck("time-limit")
          }
        })
        return loop.pipe(Effect.onInterrupt(() => stop))
      })
    )
  })
