import type * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ProviderRegistry } from "../../services/ProviderRegistry.js"
import { load } from "./SubsonicConfig.js"
import { provider, unconfigured } from "./SubsonicInfo.js"

/**
 * Adds `subsonic` to the providers of `registry`, from the environment and the
 * settings file; never fails. The provider's modules (its client and response
 * schemas) are loaded only when a server is configured: evaluating them took
 * about 13 ms of every start-up.
 */
export const addSubsonic = <E, R>(
  registry: Layer.Layer<ProviderRegistry, E, R>
): Layer.Layer<ProviderRegistry, E, R | HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.effect(
    ProviderRegistry,
    Effect.gen(function*() {
      const others = yield* ProviderRegistry
      const setup = yield* load
      if (setup._tag === "Unconfigured") return new Map([...others, [provider, unconfigured(setup.problem)]])
      const { configured } = yield* Effect.promise(() => import("./SubsonicProvider.js"))
      return new Map([...others, [provider, yield* configured(setup.settings, yield* HttpClient.HttpClient)]])
    })
  ).pipe(Layer.provide(registry))
