import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ProgressEvent } from "../domain/ProgressEvent.js"
import { Progress } from "../services/Progress.js"

/**
 * Runs `handle` on every event published from now on, in a fiber of the
 * caller's scope. When that scope closes, the subscription ends first and the
 * fiber drains what was already published (for at most `drainTimeout`), so a
 * renderer loses no line at exit.
 */
export const consumeEvents = <R>(
  handle: (event: ProgressEvent) => Effect.Effect<void, never, R>,
  drainTimeout: Duration.DurationInput
) =>
  Effect.gen(function*() {
    const progress = yield* Progress
    // Its own scope, so closing it ends the stream while queued events are still handled.
    const subscription = yield* Scope.make()
    const events = yield* progress.subscribe.pipe(Scope.extend(subscription))
    const consumer = yield* events.pipe(Stream.runForEach(handle), Effect.forkScoped)
    // Runs before the fork's own finalizer interrupts the consumer. Finalizers are
    // uninterruptible, so the wait must opt back in for the timeout to cut it short.
    yield* Effect.addFinalizer(() =>
      Scope.close(subscription, Exit.void).pipe(
        Effect.andThen(Fiber.await(consumer).pipe(Effect.interruptible, Effect.timeout(drainTimeout), Effect.ignore))
      )
    )
  })
