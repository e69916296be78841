import type { HttpClient } from "@effect/platform"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as path from "node:path"
import type { Storage } from "../services/Storage.js"
import * as EngineLayer from "../layers/EngineLayer.js"
import * as HttpClientLive from "../layers/HttpClientLive.js"
import * as HttpTransportLive from "../layers/HttpTransportLive.js"
import * as JobStoreMemory from "../layers/JobStoreMemory.js"
import * as JobStoreSqlite from "../layers/JobStoreSqlite.js"
import * as ProgressLive from "../layers/ProgressLive.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import * as SimProvider from "../layers/sim/SimProvider.js"
import * as StorageLive from "../layers/StorageLive.js"
import { addSubsonic } from "../layers/subsonic/addSubsonic.js"
import * as TaggerLive from "../layers/TaggerLive.js"
import type { JobOptions } from "./JobOptions.js"
import { limitSettingsOf, simEntriesOf } from "./JobOptions.js"
import { rendererLayer } from "./rendererLayer.js"

/**
 * The providers this build knows: the sim (its profile from LYRA_SIM_* and
 * `--sim`) and subsonic (LYRA_SUBSONIC_* or the config file; unconfigured, it
 * only fails when an input names it).
 */
const providersLayer = (options: JobOptions, http: Layer.Layer<HttpClient.HttpClient>) =>
  addSubsonic(
    Layer.unwrapEffect(Effect.map(SimProfile.load(simEntriesOf(options)), SimProvider.registryLayer))
  ).pipe(Layer.provide(http))

/** Tags, covers and lyrics for the library the engine writes, tagged by `--cpu` threads. */
const withTagger = (threads: number | undefined) => <A, E, R>(engine: Layer.Layer<A | Storage, E, R>) =>
  Layer.provideMerge(TaggerLive.layer({ threads }), engine)

/** Where a library keeps its job state. */
export const stateFile = (out: string) => path.join(out, ".lyra", "state.db")

/** Job state in `<out>/.lyra/state.db`, or in memory with `--no-state`. */
const storeLayer = (options: JobOptions) => {
  const metadataTtl = Option.getOrElse(options.metadataTtl, () => 24 * 3_600_000)
  return options.noState
    ? JobStoreMemory.layer({ metadataTtl })
    : JobStoreSqlite.layer({ filename: stateFile(options.out), metadataTtl })
}

/**
 * Every layer a command needs, chosen from its options: the one place where
 * the CLI provides the engine's services. The renderers sit on top, as the live
 * display reads the RateLimiter's usage as well as Progress.
 */
export const engineLayer = (options: JobOptions) => {
  // One pool of keep-alive connections for the providers' API calls and the transfers.
  const http = HttpClientLive.layer()
  return rendererLayer(options).pipe(Layer.provideMerge(EngineLayer.make({
    providers: providersLayer(options, http),
    storage: StorageLive.layer(options.out),
    progress: ProgressLive.layer,
    transport: HttpTransportLive.layer.pipe(Layer.provide(http)),
    limits: limitSettingsOf(options),
    retry: { ...EngineLayer.defaultRetryPolicy, retries: options.retries },
    store: storeLayer(options)
  }).pipe(withTagger(Option.getOrUndefined(options.cpu)))))
}
