import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Agent } from "@effect/platform-node/Undici"
import { Effect, Layer } from "effect"

export interface HttpClientSettings {
  /** Connections open at once to one origin (scheme, host and port); more requests queue for one. */
  readonly connectionsPerHost: number
  /** How long opening a connection (TCP and TLS) may take. */
  readonly connectTimeoutMillis: number
  /** How long an idle pooled connection is kept for the next request. */
  readonly keepAliveMillis: number
}

/** Enough for the default track and API levels (5 + 10) to each hold a connection. */
export const defaultSettings: HttpClientSettings = {
  connectionsPerHost: 16,
  connectTimeoutMillis: 10_000,
  keepAliveMillis: 30_000
}

/**
 * An undici Agent: a pool of keep-alive connections per origin, capped, with a
 * connect timeout; closed (its sockets destroyed) with the scope.
 */
export const makeDispatcher = (settings: HttpClientSettings = defaultSettings) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      new Agent({
        connections: settings.connectionsPerHost,
        pipelining: 1,
        keepAliveTimeout: settings.keepAliveMillis,
        keepAliveMaxTimeout: settings.keepAliveMillis,
        connect: { timeout: settings.connectTimeoutMillis }
      })
    ),
    (agent) => Effect.promise(() => agent.destroy())
  )

/**
 * @effect/platform's HttpClient over that pool (NodeHttpClient's undici
 * client). Response and stall timeouts are the callers' (HttpTransportLive,
 * the providers), on the Clock. Build the layer once and share it, so the
 * providers' API calls and the transfers use one pool.
 */
export const layer = (settings: HttpClientSettings = defaultSettings): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
    Layer.provide(Layer.scoped(NodeHttpClient.Dispatcher, makeDispatcher(settings)))
  )
