import type * as Duration from "effect/Duration"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { formatBytes, formatCallRate, formatDuration, formatElapsed } from "../domain/Format.js"
import type { FinalState, ItemKind, ProgressEvent } from "../domain/ProgressEvent.js"
import { Progress } from "../services/Progress.js"
import { consumeEvents } from "./consumeEvents.js"
import * as ProcessMeter from "./ProcessMeter.js"
import type { SummaryOptions } from "./Summary.js"
import { summaryNow } from "./Summary.js"

export interface Options {
  /** Print failures only. */
  readonly quiet?: boolean
  /** How long closing the layer waits for lines still queued; default 1 second. */
  readonly drainTimeout?: Duration.DurationInput
  /** Print the end-of-run summary when the job finishes (or is interrupted). */
  readonly summary?: SummaryOptions | undefined
  /** Reads the process's RSS for the summary's peak; default process.memoryUsage.rss. */
  readonly rss?: (() => number) | undefined
}

interface Known {
  readonly kind: ItemKind
  readonly label: string
  readonly parent: string | undefined
  bytes: number
}

interface Counts {
  done: number
  skipped: number
  failed: number
}

/**
 * Turns events into log lines, one event at a time. It keeps only what a line
 * needs: the job's start, and labels of items not finished yet (so memory follows
 * what is in flight, not the size of the catalog).
 */
export const makeFormatter = (options: { readonly quiet?: boolean } = {}) => {
  const quiet = options.quiet === true
  const items = new Map<string, Known>()
  const counts = new Map<string, Counts>()
  let origin: number | undefined = undefined

  const labelOf = (item: string): string => {
    const known = items.get(item)
    if (known === undefined) return item
    const parent = known.parent === undefined ? undefined : items.get(known.parent)
    return parent === undefined || parent.kind === "artist" ? known.label : `${parent.label} / ${known.label}`
  }

  const line = (at: number, text: string): string => `[${formatElapsed(at - (origin ?? at))}] ${text}`

  const finished = (event: Extract<ProgressEvent, { _tag: "ItemFinished" }>): string | undefined => {
    const known = items.get(event.item)
    const label = labelOf(event.item)
    const reason = event.reason === undefined ? "" : `: ${event.reason}`
    let text: string
    if (event.kind === "track") {
      const bytes = event.bytes ?? known?.bytes ?? 0
      text = event.state === "done"
        ? `track done: ${label}${bytes > 0 ? ` (${formatBytes(bytes)})` : ""}`
        : `track ${event.state}: ${label}${reason}`
      if (known?.parent !== undefined) {
        const tally = counts.get(known.parent)
        if (tally !== undefined) tally[event.state]++
      }
    } else {
      const tally = counts.get(event.item)
      const detail = tally === undefined ? "" : describeCounts(tally)
      text = `${event.kind} ${event.state}: ${label}${detail === "" ? "" : ` (${detail})`}${reason}`
      counts.delete(event.item)
    }
    items.delete(event.item)
    return quiet && event.state !== "failed" ? undefined : line(event.at, text)
  }

  return (event: ProgressEvent): string | undefined => {
    origin ??= event.at
    switch (event._tag) {
      case "JobStarted": {
        origin = event.at
        const { albums, api, tracks, tracksPerAlbum } = event.limits
        return quiet ? undefined : line(
          event.at,
          `job started: ${event.inputs.join(", ")} (albums ${albums}, tracks ${tracks}, ${tracksPerAlbum} per album, api ${api})`
        )
      }
      case "ItemQueued":
        items.set(event.item, { kind: event.kind, label: event.label, parent: event.parent, bytes: 0 })
        if (event.kind !== "track") counts.set(event.item, { done: 0, skipped: 0, failed: 0 })
        return undefined
      case "ItemStarted":
        // A line per track start would double the log without saying anything new.
        return quiet || event.kind === "track" ? undefined : line(event.at, `${event.kind} started: ${labelOf(event.item)}`)
      case "TrackBytes": {
        const known = items.get(event.item)
        if (known !== undefined) known.bytes = event.bytes
        return undefined
      }
      case "ItemFinished":
        return finished(event)
      case "Retrying":
        return quiet ? undefined : line(
          event.at,
          `retrying ${event.provider} ${event.operation} (attempt ${event.attempt}) in ${
            formatDuration(event.delayMillis)
          }: ${event.reason}`
        )
      case "RateLimited":
        return quiet ? undefined : line(
          event.at,
          `rate limited by ${event.provider} (HTTP ${event.status})${
            event.retryAfterMillis === undefined ? "" : `, retry after ${formatDuration(event.retryAfterMillis)}`
          }`
        )
      case "CoolingDown":
        return quiet ? undefined : line(
          event.at,
          `${event.provider} cooling down ${formatDuration(event.untilMillis - event.at)}`
        )
      case "RateAdjusted":
        return quiet ? undefined : line(
          event.at,
          `${event.provider} now ${
            event.ratePerSecond === undefined ? "unpaced" : `paced at ${formatCallRate(event.ratePerSecond)}`
          }, up to ${event.concurrency} calls at once: ${event.reason}`
        )
      case "QuotaWaiting":
        return quiet ? undefined : line(
          event.at,
          `${event.provider} quota reached, waiting ${formatDuration(event.untilMillis - event.at)}`
        )
      case "JobFinished":
        return quiet ? undefined : line(
          event.at,
          `job ${event.interrupted ? "interrupted" : "finished"}: ${
            describeCounts(event) || "nothing to do"
          }, ${formatBytes(event.bytes)}`
        )
    }
  }
}

const describeCounts = (counts: { readonly [K in FinalState]: number }): string =>
  (["done", "skipped", "failed"] as const)
    .filter((state) => counts[state] > 0)
    .map((state) => `${counts[state]} ${state}`)
    .join(", ")

/**
 * Subscribes, and prints a line per event that matters through `Console`,
 * without terminal control codes: for logs, pipes and CI.
 */
export const make = Effect.fn("PlainRenderer.make")(function*(options: Options = {}) {
  const progress = yield* Progress
  const format = makeFormatter(options)
  const meter = yield* ProcessMeter.make(options.rss)
  let printed = false
  yield* consumeEvents((event) => {
      const text = format(event)
      if (text !== undefined) printed = true
      const line = text === undefined ? Effect.void : Console.log(text)
      const summary = options.summary
      if (event._tag !== "JobFinished" || summary === undefined) return line
      return Effect.gen(function*() {
        yield* line
        // A blank line sets the summary apart from the lines above it, if any.
        yield* Console.log(`${printed ? "\n" : ""}${yield* summaryNow(progress, meter, summary)}`)
      })
    }, options.drainTimeout ?? "1 second")
})

export const layerWith = (options: Options): Layer.Layer<never, never, Progress> => Layer.scopedDiscard(make(options))

export const layer: Layer.Layer<never, never, Progress> = layerWith({})

/** Failures only. */
export const layerQuiet: Layer.Layer<never, never, Progress> = layerWith({ quiet: true })
