import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ProgressEvent, ProgressEventInput } from "../domain/ProgressEvent.js"
import { ProgressSnapshot } from "../domain/ProgressSnapshot.js"
import { Progress } from "../services/Progress.js"

/**
 * A marker queued behind the events a stream must still deliver. Ending streams
 * with a marker, rather than shutting queues down, is what lets them drain.
 */
class EndOfStream {}

const isEvent = (message: ProgressEvent | EndOfStream): message is ProgressEvent => !(message instanceof EndOfStream)

export interface Options {
  /** Sees every stamped event, in publication order, as it is published (for recorders). */
  readonly onEvent?: (event: ProgressEvent) => void
}

/**
 * The in-memory Progress: one unbounded PubSub and one snapshot updated in place.
 *
 * - `publish` never blocks or fails; stamping, folding and offering happen in one
 *   synchronous step, so the snapshot, the recorders and every subscriber see the
 *   same order and non-decreasing times, even with many publishing fibers.
 * - A subscriber's stream ends once it has delivered every event published before
 *   the subscribing scope closed, or before this layer's scope closed. Run the
 *   stream: its subscription is released when the stream ends or is interrupted.
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const pubsub = yield* PubSub.unbounded<ProgressEvent | EndOfStream>()
  const snapshot = new ProgressSnapshot()
  const endOfAll = new EndOfStream()
  const onEvent = options.onEvent
  let closed = false

  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      pubsub.unsafeOffer(endOfAll)
    })
  )

  const publish = (input: ProgressEventInput): Effect.Effect<void> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const event: ProgressEvent = { ...input, at: clock.unsafeCurrentTimeMillis() }
        snapshot.apply(event)
        onEvent?.(event)
        // After close every stream has ended: keep folding, but queue nothing.
        if (!closed) pubsub.unsafeOffer(event)
      })
    )

  const subscribe: Effect.Effect<Stream.Stream<ProgressEvent>, never, Scope.Scope> = Effect.gen(function*() {
    // The queue outlives the caller's scope until the stream has drained it.
    const subscription = yield* Scope.make()
    const queue = yield* PubSub.subscribe(pubsub).pipe(Scope.extend(subscription))
    // Checked after subscribing: if not closed yet, the closing marker will reach this queue.
    if (closed) {
      yield* Scope.close(subscription, Exit.void)
      return Stream.empty
    }
    const endOfMine = new EndOfStream()
    yield* Effect.addFinalizer(() => Effect.sync(() => pubsub.unsafeOffer(endOfMine)))
    return Stream.fromQueue(queue).pipe(
      Stream.takeWhile((message) => message !== endOfMine && message !== endOfAll),
      Stream.filter(isEvent),
      Stream.ensuring(Scope.close(subscription, Exit.void))
    )
  })

  return Progress.of({
    publish,
    subscribe,
    snapshot: Effect.sync(() => snapshot)
  })
})

export const layer: Layer.Layer<Progress> = Layer.scoped(Progress, make())
