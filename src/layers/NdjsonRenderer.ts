import type * as Duration from "effect/Duration"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { ProgressEvent } from "../domain/ProgressEvent.js"
import { Progress } from "../services/Progress.js"
import { consumeEvents } from "./consumeEvents.js"
import * as ProcessMeter from "./ProcessMeter.js"
import type { SummaryOptions } from "./Summary.js"
import { summaryNow } from "./Summary.js"

export interface Options {
  /** Print the human summary on stderr when the job finishes, keeping stdout pure NDJSON. */
  readonly summary?: SummaryOptions | undefined
  /** Reads the process's RSS for the summary's peak; default process.memoryUsage.rss. */
  readonly rss?: (() => number) | undefined
  /** How long closing the layer waits for lines still queued; default 10 seconds, as a consumer wants every line. */
  readonly drainTimeout?: Duration.DurationInput | undefined
}

const encode = Schema.encodeSync(ProgressEvent)

/** One event as one line of JSON, in the wire form of the ProgressEvent schema (docs/events.md). */
export const toLine = (event: ProgressEvent): string => JSON.stringify(encode(event))

/** Reads one line back into an event, failing on anything the schema does not accept. */
export const fromLine = Schema.decodeUnknown(Schema.parseJson(ProgressEvent))

/**
 * Prints every event as a line of JSON on stdout (through `Console.log`), in
 * publication order, for other programs to consume. The summary, being for
 * people, goes to stderr.
 */
export const make = Effect.fn("NdjsonRenderer.make")(function*(options: Options = {}) {
  const progress = yield* Progress
  const meter = yield* ProcessMeter.make(options.rss)
  yield* consumeEvents((event) => {
      const line = Console.log(toLine(event))
      const summary = options.summary
      if (event._tag !== "JobFinished" || summary === undefined) return line
      return Effect.gen(function*() {
        yield* line
        yield* Console.error(yield* summaryNow(progress, meter, summary))
      })
    }, options.drainTimeout ?? "10 seconds")
})

export const layerWith = (options: Options): Layer.Layer<never, never, Progress> => Layer.scopedDiscard(make(options))

export const layer: Layer.Layer<never, never, Progress> = layerWith({})
