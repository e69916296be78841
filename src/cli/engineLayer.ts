import { Effect, Layer } from "effect"
import type { ItemView } from "../domain/ProgressSnapshot.js"
import * as EngineLayer from "../layers/EngineLayer.js"
import * as PlainRenderer from "../layers/PlainRenderer.js"
import * as ProgressLive from "../layers/ProgressLive.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import * as SimProvider from "../layers/sim/SimProvider.js"
import * as StorageLive from "../layers/StorageLive.js"
import type { JobOptions } from "./JobOptions.js"
import { limitSettingsOf, simEntriesOf } from "./JobOptions.js"

/** The providers this build knows; the sim profile comes from LYRA_SIM_* and `--sim`. */
const providersLayer = (options: JobOptions) =>
  Layer.unwrapEffect(Effect.map(SimProfile.load(simEntriesOf(options)), SimProvider.registryLayer))

const quote = (text: string) => /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`

/** The command that retries one failed item into the same library. */
const retryCommand = (options: JobOptions) => (item: ItemView) => {
  const ref = /^[^:]+:(track|album|artist|playlist):[^#/]+/.exec(item.item)?.[0]
  return ref === undefined ? undefined : `lyra download ${ref} --out ${quote(options.out)}`
}

/**
 * Every layer a command needs, chosen from its options: the one place where
 * the CLI provides the engine's services.
 */
export const engineLayer = (options: JobOptions) =>
  EngineLayer.make({
    providers: providersLayer(options),
    storage: StorageLive.layer(options.out),
    progress: PlainRenderer.layerWith({ quiet: options.quiet, summary: { retryCommand: retryCommand(options) } }).pipe(
      Layer.provideMerge(ProgressLive.layer)
    ),
    limits: limitSettingsOf(options),
    retry: { ...EngineLayer.defaultRetryPolicy, retries: options.retries }
  })
