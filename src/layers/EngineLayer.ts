import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import type { LimitSettings } from "../domain/LimitSettings.js"
import { defaultLimitSettings } from "../domain/LimitSettings.js"
import type { JobStore } from "../services/JobStore.js"
import type { MusicApi } from "../services/MusicApi.js"
import type { Progress } from "../services/Progress.js"
import type { ProviderRegistry } from "../services/ProviderRegistry.js"
import type { RateLimiter } from "../services/RateLimiter.js"
import { RetryPolicy } from "../services/RetryPolicy.js"
import type { Storage } from "../services/Storage.js"
import type { Transport } from "../services/Transport.js"
import * as JobStoreMemory from "./JobStoreMemory.js"
import * as MusicApiLive from "./MusicApiLive.js"
import * as RateLimiterLive from "./RateLimiterLive.js"

export interface EngineParts<EP, RP, ES, RS, EG, RG, ET, RT, EJ = never, RJ = never> {
  /** The providers, by name (e.g. the sim's `registryLayer`). */
  readonly providers: Layer.Layer<ProviderRegistry, EP, RP>
  readonly storage: Layer.Layer<Storage, ES, RS>
  /** Progress, with any renderers already merged in. */
  readonly progress: Layer.Layer<Progress, EG, RG>
  /** Fetches bytes that providers name by URL (e.g. HttpTransportLive over an HttpClient). */
  readonly transport: Layer.Layer<Transport, ET, RT>
  /** Durable job state; in memory (nothing survives the process) when left out. */
  readonly store?: Layer.Layer<JobStore, EJ, RJ> | undefined
  readonly limits?: LimitSettings | undefined
  readonly retry?: RetryPolicy["Type"] | undefined
}

export const defaultRetryPolicy: RetryPolicy["Type"] = {
  retries: 5,
  baseDelay: Duration.millis(250),
  maxDelay: Duration.seconds(30)
}

/**
 * Everything `download` needs, from the parts that differ between the CLI, an
 * embedding app and a simulation. Build it once and reuse the value.
 */
export const make = <EP, RP, ES, RS, EG, RG, ET, RT, EJ = never, RJ = never>(
  parts: EngineParts<EP, RP, ES, RS, EG, RG, ET, RT, EJ, RJ>
): Layer.Layer<
  MusicApi | RateLimiter | RetryPolicy | Storage | Progress | Transport | JobStore,
  EP | ES | EG | ET | EJ,
  RP | RS | RG | RT | RJ
> => {
  const retry = Layer.succeed(RetryPolicy, parts.retry ?? defaultRetryPolicy)
  return MusicApiLive.layer.pipe(
    Layer.provideMerge(RateLimiterLive.layer(parts.limits ?? defaultLimitSettings)),
    Layer.provide(parts.providers),
    Layer.provideMerge(
      Layer.mergeAll(retry, parts.storage, parts.transport, parts.store ?? (JobStoreMemory.layer() as Layer.Layer<JobStore, EJ, RJ>))
    ),
    Layer.provideMerge(parts.progress)
  )
}
