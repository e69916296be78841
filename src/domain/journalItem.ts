import type { ItemRecord } from "../services/JobStore.js"
import type { ProgressEventInput } from "./ProgressEvent.js"

/**
 * An item's stored record after one event, or `undefined` when the event does
 * not touch an item. A track done in an earlier run stays done when a resumed
 * run finds it already in the library.
 */
export const journalItem = (previous: ItemRecord | undefined, event: ProgressEventInput): ItemRecord | undefined => {
  switch (event._tag) {
    case "ItemQueued":
      return {
        item: event.item,
        kind: event.kind,
        label: event.label,
        parent: event.parent,
        path: event.path ?? previous?.path,
        state: previous?.state === "done" ? "done" : "queued",
        bytes: previous?.bytes ?? 0,
        sha256: previous?.sha256,
        attempts: previous?.attempts ?? 0,
        error: previous?.state === "done" ? undefined : previous?.error
      }
    case "ItemStarted":
      return previous === undefined ? undefined : {
        ...previous,
        state: previous.state === "done" ? "done" : "running",
        attempts: previous.attempts + 1
      }
    case "TrackBytes":
      return previous === undefined ? undefined : { ...previous, bytes: event.bytes }
    case "Retrying":
      return previous === undefined || event.item !== previous.item ? undefined : {
        ...previous,
        attempts: previous.attempts + 1,
        error: event.reason
      }
    case "ItemFinished": {
      if (previous === undefined) return undefined
      const keepDone = previous.state === "done" && event.state === "skipped"
      return {
        ...previous,
        state: keepDone ? "done" : event.state,
        bytes: event.bytes ?? previous.bytes,
        path: event.path ?? previous.path,
        sha256: event.sha256 ?? previous.sha256,
        error: event.state === "failed" ? event.reason : undefined
      }
    }
    default:
      return undefined
  }
}

/** The item an event is about, if any. */
export const itemOf = (event: ProgressEventInput): string | undefined => {
  switch (event._tag) {
    case "ItemQueued":
    case "ItemStarted":
    case "TrackBytes":
    case "ItemFinished":
      return event.item
    case "Retrying":
      return event.item
    default:
      return undefined
  }
}
