import * as Effect from "effect/Effect"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { Job } from "./Job.js"

/** Records an item left out on purpose (a filter), with the reason. */
export const skipItem = Effect.fn("skipItem")(function*(
  job: Job,
  item: string,
  kind: ItemKind,
  label: string,
  reason: string,
  parent?: string
) {
  yield* job.emit({ _tag: "ItemQueued", item, kind, label, ...(parent === undefined ? {} : { parent }) })
  yield* job.emit({ _tag: "ItemFinished", item, kind, state: "skipped", reason })
})
