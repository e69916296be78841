import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { ItemView } from "../domain/ProgressSnapshot.js"
import * as LogFile from "../layers/LogFile.js"
import * as NdjsonRenderer from "../layers/NdjsonRenderer.js"
import * as PlainRenderer from "../layers/PlainRenderer.js"
import type { SummaryOptions } from "../layers/Summary.js"
import type { OutputOptions } from "./OutputOptions.js"

const quote = (text: string) => /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`

/** The command that retries one failed item into the same library. */
const retryCommand = (out: string) => (item: ItemView) => {
  const ref = /^[^:]+:(track|album|artist|playlist):[^#/]+/.exec(item.item)?.[0]
  return ref === undefined ? undefined : `lyra download ${ref} --out ${quote(out)}`
}

/**
 * The live display, loaded only when it is shown: its text measuring (string-width) builds an
 * emoji regex and a Segmenter at load, about 40 ms of start-up that plain output does not need.
 */
const terminalLayer = (summary: SummaryOptions) =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("../layers/TerminalRenderer.js")), (module) => module.layerWith({ summary }))
  )

/** Which renderer shows the run. */
export type OutputMode = "terminal" | "plain" | "quiet" | "json"

/** `--json` wins, then `--quiet`, then `--plain`; otherwise the live display on a terminal and plain lines elsewhere. */
export const outputModeOf = (options: OutputOptions, isTTY: boolean): OutputMode =>
  options.json ? "json" : options.quiet ? "quiet" : options.plain || !isTTY ? "plain" : "terminal"

/**
 * The renderers the output options ask for, subscribed to Progress (the live
 * display also reads the RateLimiter's usage), and the log: `--log-file` sends
 * every log line there as JSON, and without it nothing logs, since only
 * renderers print.
 */
export const rendererLayer = (options: OutputOptions & { readonly out: string }) => {
  const summary = { retryCommand: retryCommand(options.out) }
  const mode = outputModeOf(options, process.stdout.isTTY === true)
  const display = mode === "json"
    ? NdjsonRenderer.layerWith({ summary })
    : mode === "terminal"
    ? terminalLayer(summary)
    : PlainRenderer.layerWith({ quiet: mode === "quiet", summary })
  const logging = Option.match(options.logFile, {
    onNone: () => LogFile.useLogger(undefined),
    onSome: (path) => LogFile.layer(path)
  })
  return Layer.merge(display, logging)
}
