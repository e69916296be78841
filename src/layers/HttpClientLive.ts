import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { defaultRedirectPolicy } from "./followRedirects.js"

export interface HttpClientSettings {
  /** Connections open at once to one origin (scheme, host and port); more requests queue for one. */
  readonly connectionsPerHost: number
  /** How long opening a connection (TCP and TLS) may take. */
  readonly connectTimeoutMillis: number
  /** How long an idle pooled connection is kept for the next request. */
  readonly keepAliveMillis: number
  /** Redirects followed in a row for one request (see followRedirects for what else is checked). */
  readonly maxRedirects: number
}

/** Enough for the default track and API levels (5 + 10) to each hold a connection. */
export const defaultSettings: HttpClientSettings = {
  connectionsPerHost: 16,
  connectTimeoutMillis: 10_000,
  keepAliveMillis: 30_000,
  maxRedirects: defaultRedirectPolicy.maxRedirects
}

/**
 * The HttpClient lyra makes every request with: UndiciHttpClient's pool of
 * keep-alive connections per origin, following redirects under lyra's policy.
 * Response and stall timeouts are the callers' (HttpTransportLive, the
 * providers), on the Clock. Build the layer once and share it, so the
 * providers' API calls and the transfers use one pool.
 *
 * undici is a third of the bundle, so it is loaded, and the pool made, at the
 * first request: a run that makes none (the sim, a no-op re-run) starts
 * without it. The pool still closes with this layer's scope.
 */
export const layer = (settings: HttpClientSettings = defaultSettings): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const undici = yield* Effect.cached(
        Effect.promise(() => import("./UndiciHttpClient.js")).pipe(
          Effect.flatMap((module) => Layer.buildWithScope(module.layer(settings), scope)),
          Effect.map(Context.get(HttpClient.HttpClient)),
          Effect.uninterruptible
        )
      )
      return HttpClient.make((request) => Effect.flatMap(undici, (client) => client.execute(request)))
    })
  )
