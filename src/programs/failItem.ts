import * as Effect from "effect/Effect"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { JobStoreError } from "../services/JobStoreError.js"
import type { Job } from "./Job.js"

/** Records an item that failed before it could start, e.g. its metadata lookup. */
export const failItem = Effect.fn("failItem")(function*(
  job: Job,
  item: string,
  kind: ItemKind,
  reason: string,
  parent?: string
) {
  yield* job.emit({
    _tag: "ItemQueued",
    item,
    kind,
    label: item,
    ...(parent === undefined ? {} : { parent })
  })
  yield* job.emit({ _tag: "ItemFinished", item, kind, state: "failed", reason })
})

/**
 * Turns any failure of an item's walk into that item failing with the reason;
 * only the state store failing ends the job, since nothing could be recorded.
 */
export const failedAs = (job: Job, item: string, kind: ItemKind, parent?: string) =>
<A, E extends { readonly _tag: string; readonly message: string }, R>(
  self: Effect.Effect<A, E | JobStoreError, R>
): Effect.Effect<A | void, JobStoreError, R> =>
  Effect.catchAll(self, (error) =>
    error._tag === "JobStoreError"
      ? Effect.fail(error as JobStoreError)
      : failItem(job, item, kind, error.message, parent))
