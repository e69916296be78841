import type { ItemKind, ProgressEvent } from "../../src/domain/ProgressEvent.js"

/**
 * The most items running at once, overall and per parent, from the event log:
 * an item runs from its ItemStarted to its ItemFinished.
 */
export const peakRunning = (events: ReadonlyArray<ProgressEvent>, ...kinds: ReadonlyArray<ItemKind>) => {
  const counted = (kind: ItemKind) => kinds.includes(kind)
  const parents = new Map<string, string | undefined>()
  const running = new Set<string>()
  const perParent = new Map<string, number>()
  let peak = 0
  let peakPerParent = 0
  for (const event of events) {
    if (event._tag === "ItemQueued" && counted(event.kind)) parents.set(event.item, event.parent)
    if (event._tag === "ItemStarted" && counted(event.kind)) {
      running.add(event.item)
      peak = Math.max(peak, running.size)
      const parent = parents.get(event.item) ?? ""
      const n = (perParent.get(parent) ?? 0) + 1
      perParent.set(parent, n)
      peakPerParent = Math.max(peakPerParent, n)
    }
    if (event._tag === "ItemFinished" && counted(event.kind) && running.delete(event.item)) {
      const parent = parents.get(event.item) ?? ""
      perParent.set(parent, (perParent.get(parent) ?? 1) - 1)
    }
  }
  return { peak, peakPerParent }
}

/** The most timestamps that fall in any window `[t, t + windowMillis)`. */
export const peakInWindow = (times: ReadonlyArray<number>, windowMillis: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let peak = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMillis) start++
    peak = Math.max(peak, end - start + 1)
  }
  return peak
}

/** Final states by item, failing if any item has none or more than one. */
export const finalStates = (events: ReadonlyArray<ProgressEvent>) => {
  const queued = new Set<string>()
  const finals = new Map<string, Extract<ProgressEvent, { _tag: "ItemFinished" }>>()
  for (const event of events) {
    if (event._tag === "ItemQueued") queued.add(event.item)
    if (event._tag === "ItemFinished") {
      if (finals.has(event.item)) throw new Error(`${event.item} finished twice`)
      finals.set(event.item, event)
    }
  }
  for (const item of queued) if (!finals.has(item)) throw new Error(`${item} never finished`)
  return finals
}
