import type * as Duration from "effect/Duration"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import cliCursor from "cli-cursor"
import { createLogUpdate } from "log-update"
import type { ProgressEvent } from "../domain/ProgressEvent.js"
import type { ProgressSnapshot } from "../domain/ProgressSnapshot.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import * as ProcessMeter from "./ProcessMeter.js"
import type { SummaryOptions } from "./Summary.js"
import { summaryNow } from "./Summary.js"
import { renderFrame } from "./TerminalFrame.js"

/** The part of a TTY write stream the display uses (process.stdout, or a fake in tests). */
export interface TerminalStream {
  write(chunk: string): unknown
  readonly columns?: number | undefined
  readonly rows?: number | undefined
  readonly isTTY?: boolean | undefined
}

export interface Options {
  /** Print the end-of-run summary when the job finishes (or is interrupted). */
  readonly summary?: SummaryOptions | undefined
  /** Where to draw; default process.stdout. */
  readonly stream?: TerminalStream | undefined
  /** Time between frames; default 100 ms, so at most 10 redraws a second. */
  readonly interval?: Duration.DurationInput | undefined
  /** Reads the process's RSS; default process.memoryUsage.rss. */
  readonly rss?: (() => number) | undefined
  /** ANSI colours; default on for a TTY unless NO_COLOR is set. */
  readonly color?: boolean | undefined
  /** How long closing the layer waits for events still queued; default 1 second. */
  readonly drainTimeout?: Duration.DurationInput | undefined
}

/** The line kept above the live area when an item ends, if it is one worth keeping: failures, and finished groups. */
const finishedLine = (snapshot: ProgressSnapshot, event: Extract<ProgressEvent, { _tag: "ItemFinished" }>) => {
  const view = snapshot.items.get(event.item)
  const label = view === undefined ? event.item : snapshot.labelOf(view)
  if (event.state === "failed") return `✗ ${event.kind} failed: ${label}${event.reason === undefined ? "" : `: ${event.reason}`}`
  // Tracks (and the group around a single track) are on the live bars; a line each would be noise.
  if (view === undefined || view.kind === "track") return undefined
  const counts = snapshot.children.get(view.item)
  const detail = counts === undefined
    ? ""
    : ` (${
      [`${counts.done} done`, `${counts.skipped} skipped`, `${counts.failed} failed`]
        .filter((part) => !part.startsWith("0 "))
        .join(", ")
    })`
  return `✓ ${event.kind} ${event.state}: ${label}${detail === " ()" ? "" : detail}`
}

/**
 * The live display for a terminal. It subscribes to Progress and redraws a frame
 * (TerminalFrame) at most every `interval` through log-update, which rewrites
 * only the lines that changed inside one synchronized-output block, so nothing
 * flickers; each frame is laid out for the stream's current width and height, so
 * a resize shows on the next frame. Finished albums and failures stay above the
 * live area as plain lines, written with the next frame. When the job finishes
 * the live area is cleared and the summary printed, so the last screen holds it.
 */
export const make = Effect.fn("TerminalRenderer.make")(function*(options: Options = {}) {
  const progress = yield* Progress
  const limiter = yield* RateLimiter
  const stream: TerminalStream = options.stream ?? process.stdout
  const color = options.color ?? (stream.isTTY === true && process.env["NO_COLOR"] === undefined)
  const meter = yield* ProcessMeter.make(options.rss)
  // A terminal that reports no size (0 x 0, as a pty nobody sized does) gets the usual 80 x 24.
  const columns = () => stream.columns || 80
  const rows = () => stream.rows || 24
  // Writes made while drawing one frame are sent as one, so the terminal never shows half a frame.
  let pending: Array<string> | undefined = undefined
  const sized = {
    write: (chunk: string) => pending === undefined ? stream.write(chunk) : pending.push(chunk),
    get columns() {
      return columns()
    },
    get rows() {
      return rows()
    },
    isTTY: stream.isTTY
  }
  // The cursor is hidden once for the whole display (cli-cursor restores it on exit), not on every frame.
  const draw = createLogUpdate(sized as unknown as NodeJS.WritableStream, { showCursor: true })
  const cursor = sized as unknown as NodeJS.WriteStream
  let live = false
  let persisted = false
  /** Lines to keep above the live area, written with the next frame so that bursts cost one redraw. */
  let keep: Array<string> = []

  /** Writes the lines waiting to be kept, in place of the live area; answers whether there were any. */
  const flushKept = (): boolean => {
    if (keep.length === 0) return false
    draw.persist(keep.join("\n"))
    keep = []
    persisted = true
    return true
  }

  const atOnce = (draws: () => void) => {
    pending = []
    draws()
    const chunk = pending.join("")
    pending = undefined
    if (chunk !== "") stream.write(chunk)
  }

  const frame = Effect.gen(function*() {
    if (!live) return
    const snapshot = yield* progress.snapshot
    const usage = yield* limiter.usage
    const now = yield* Clock.currentTimeMillis
    const rssBytes = yield* meter.sample
    const lines = renderFrame({
      snapshot,
      usage,
      now,
      // One column spare: a line that fills the last column wraps early on some terminals.
      width: Math.max(20, columns() - 1),
      height: Math.max(3, rows() - 1),
      rssBytes,
      color
    })
    atOnce(() => {
      flushKept()
      draw(lines.join("\n"))
    })
  })

  const paintRed = (text: string) => color ? `\u001B[31m${text}\u001B[39m` : text

  const onEvent = (event: ProgressEvent): Effect.Effect<void> => {
    switch (event._tag) {
      case "JobStarted":
        return Effect.zipRight(
          Effect.sync(() => {
            live = true
            cliCursor.hide(cursor)
          }),
          frame
        )
      case "ItemFinished":
        return Effect.map(progress.snapshot, (snapshot) => {
          const line = finishedLine(snapshot, event)
          if (line !== undefined && live) keep.push(event.state === "failed" ? paintRed(line) : line)
        })
      case "JobFinished":
        return Effect.gen(function*() {
          if (live) {
            live = false
            // Kept lines replace the live area; with none, it is just erased.
            if (!flushKept()) draw.clear()
            draw.done()
            cliCursor.show(cursor)
          }
          const summary = options.summary
          if (summary === undefined) return
          // A blank line sets the summary apart from the lines kept above it, if any.
          yield* Console.log(`${persisted ? "\n" : ""}${yield* summaryNow(progress, meter, summary)}`)
        })
      default:
        return Effect.void
    }
  }

  yield* Effect.forkScoped(Effect.repeat(frame, Schedule.spaced(options.interval ?? "100 millis")))
  // Its own scope, so closing it ends the stream while queued events are still handled.
  const subscription = yield* Scope.make()
  const events = yield* progress.subscribe.pipe(Scope.extend(subscription))
  const handler = yield* events.pipe(Stream.runForEach(onEvent), Effect.forkScoped)
  yield* Effect.addFinalizer(() =>
    Scope.close(subscription, Exit.void).pipe(
      Effect.andThen(
        Fiber.await(handler).pipe(Effect.interruptible, Effect.timeout(options.drainTimeout ?? "1 second"), Effect.ignore)
      ),
      // A job that never finished (a crash): keep its last frame on screen, and the cursor back.
      Effect.andThen(Effect.sync(() => {
        if (live) {
          live = false
          flushKept()
          draw.done()
          cliCursor.show(cursor)
        }
      }))
    )
  )
})

/** The live display, subscribed to Progress; reads API usage from the RateLimiter. */
export const layerWith = (options: Options): Layer.Layer<never, never, Progress | RateLimiter> =>
  Layer.scopedDiscard(make(options))

export const layer: Layer.Layer<never, never, Progress | RateLimiter> = layerWith({})
