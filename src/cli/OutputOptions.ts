import * as Options from "@effect/cli/Options"

/** How a command shows its progress. */
export const outputOptions = {
  quiet: Options.boolean("quiet").pipe(
    Options.withAlias("q"),
    Options.withDescription("Print only errors and the final summary.")
  ),
  plain: Options.boolean("plain").pipe(
    Options.withDescription(
      "One plain line per state change, with no terminal control codes (the default when stdout is not a terminal)."
    )
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription(
      "Print progress as NDJSON events on stdout, one JSON object a line (schema: docs/events.md); "
        + "the summary goes to stderr."
    )
  ),
  logFile: Options.text("log-file").pipe(
    Options.optional,
    Options.withDescription(
      "Append a structured log (JSON lines) of every request, status, retry, cooldown and error, with timings "
        + "and secrets redacted: the file to attach to a bug report."
    )
  )
}

type Parsed<T> = { readonly [K in keyof T]: T[K] extends Options.Options<infer A> ? A : never }
export type OutputOptions = Parsed<typeof outputOptions>
