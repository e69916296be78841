import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as Context from "effect/Context"
import type { ProgressEvent, ProgressEventInput } from "../domain/ProgressEvent.js"
import type { ProgressSnapshot } from "../domain/ProgressSnapshot.js"

/**
 * Every state change of a job, its albums and tracks. Renderers subscribe;
 * nothing else prints.
 */
export class Progress extends Context.Tag("lyra/Progress")<Progress, {
  /** Stamps the event with the Clock's time and publishes it. */
  readonly publish: (event: ProgressEventInput) => Effect.Effect<void>
  /** Events published from now on; the subscription lives as long as the scope. */
  readonly subscribe: Effect.Effect<Stream.Stream<ProgressEvent>, never, Scope.Scope>
  /** The live state folded from every event so far. Read it; do not change it. */
  readonly snapshot: Effect.Effect<ProgressSnapshot>
}>() {}
