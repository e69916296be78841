import type * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import { Effect, Layer } from "effect"
import { ProviderRegistry } from "../../services/ProviderRegistry.js"
import { load } from "./SubsonicConfig.js"
import { unconfigured } from "./SubsonicInfo.js"

/**
 * Adds `subsonic` to the providers of `registry`, from the environment and the
 * settings file; never fails. The provider's modules (its client and response
 * schemas) are loaded only when a server is configured: a run without one
 * spent about 30 ms of start-up on them.
 */
export const addSubsonic = <E, R>(
  registry: Layer.Layer<ProviderRegistry, E, R>
): Layer.Layer<ProviderRegistry, E, R | HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(
    ProviderRegistry,
    Effect.gen(function*() {
      const others = yield* ProviderRegistry
      const setup = yield* load
      const subsonic = setup._tag === "Configured"
        ? yield* Effect.flatMap(
          Effect.promise(() => import("./SubsonicProvider.js")),
          (module) => Effect.flatMap(HttpClient.HttpClient, (http) => module.configured(setup.settings, http))
        )
        : unconfigured(setup.problem)
      return new Map([...others, [subsonic.name, subsonic]])
    })
  ).pipe(Layer.provide(registry))
