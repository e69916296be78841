import { Effect } from "effect"
import type { ItemKind } from "../domain/ProgressEvent.js"
import { Progress } from "../services/Progress.js"

/** Records an item that failed before it could start, e.g. its metadata lookup. */
export const failItem = Effect.fn("failItem")(function*(
  item: string,
  kind: ItemKind,
  reason: string,
  parent?: string
) {
  const progress = yield* Progress
  yield* progress.publish({
    _tag: "ItemQueued",
    item,
    kind,
    label: item,
    ...(parent === undefined ? {} : { parent })
  })
  yield* progress.publish({ _tag: "ItemFinished", item, kind, state: "failed", reason })
})
