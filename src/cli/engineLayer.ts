import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as EngineLayer from "../layers/EngineLayer.js"
import * as HttpTransportLive from "../layers/HttpTransportLive.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import * as SimProvider from "../layers/sim/SimProvider.js"
import * as StorageLive from "../layers/StorageLive.js"
import type { JobOptions } from "./JobOptions.js"
import { limitSettingsOf, simEntriesOf } from "./JobOptions.js"
import { rendererLayer } from "./rendererLayer.js"

/** The providers this build knows; the sim profile comes from LYRA_SIM_* and `--sim`. */
const providersLayer = (options: JobOptions) =>
  Layer.unwrapEffect(Effect.map(SimProfile.load(simEntriesOf(options)), SimProvider.registryLayer))

/**
 * Every layer a command needs, chosen from its options: the one place where
 * the CLI provides the engine's services.
 */
export const engineLayer = (options: JobOptions) =>
  EngineLayer.make({
    providers: providersLayer(options),
    storage: StorageLive.layer(options.out),
    progress: rendererLayer(options),
    transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)),
    limits: limitSettingsOf(options),
    retry: { ...EngineLayer.defaultRetryPolicy, retries: options.retries }
  })
