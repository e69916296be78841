import { Layer } from "effect"
import type { ItemView } from "../domain/ProgressSnapshot.js"
import * as PlainRenderer from "../layers/PlainRenderer.js"
import * as ProgressLive from "../layers/ProgressLive.js"
import type { OutputOptions } from "./OutputOptions.js"

const quote = (text: string) => /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`

/** The command that retries one failed item into the same library. */
const retryCommand = (out: string) => (item: ItemView) => {
  const ref = /^[^:]+:(track|album|artist|playlist):[^#/]+/.exec(item.item)?.[0]
  return ref === undefined ? undefined : `lyra download ${ref} --out ${quote(out)}`
}

/** Progress, with the renderers the output options ask for subscribed to it. */
export const rendererLayer = (options: OutputOptions & { readonly out: string }) =>
  PlainRenderer.layerWith({ quiet: options.quiet, summary: { retryCommand: retryCommand(options.out) } }).pipe(
    Layer.provideMerge(ProgressLive.layer)
  )
