import { Options } from "@effect/cli"

/** How a command shows its progress. */
export const outputOptions = {
  quiet: Options.boolean("quiet").pipe(
    Options.withAlias("q"),
    Options.withDescription("Print only failures and the final summary.")
  )
}

type Parsed<T> = { readonly [K in keyof T]: T[K] extends Options.Options<infer A> ? A : never }
export type OutputOptions = Parsed<typeof outputOptions>
