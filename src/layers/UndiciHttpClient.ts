import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Agent, buildConnector } from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Socket } from "node:net"
import { defaultRedirectPolicy, followRedirects } from "./followRedirects.js"
import type { HttpClientSettings } from "./HttpClientLive.js"

/** The part of undici's HTTP/1 parser that `finishPausedParser` touches. */
interface PausableParser {
  paused: boolean
  readonly resume: () => void
}

/**
 * Works around nodejs/undici#5360, fixed only in undici 8 (which needs Node
 * 22): when a server ends a `Connection: close` response (or cuts one short)
 * while a slow reader holds its body back (the parser paused), undici 7
 * asserts in the socket's `end` or `close` handler, which no one can catch,
 * and the process dies. Found by the fault proxy's short bodies. Before
 * undici sees the end, the parser is let run on once: a body that had all
 * come completes. If it pauses again (the body still held back, and short),
 * it is marked unpaused so that undici ends the response with its "closed"
 * error instead: the transfer fails as transient and resumes from its .part.
 */
const finishPausedParser = (socket: Socket) => {
  const parser = (): PausableParser | undefined => {
    const key = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === "parser")
    const value = key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key]
    return typeof value === "object" && value !== null && "paused" in value && "resume" in value
      ? value as PausableParser
      : undefined
  }
  const unpause = () => {
    const paused = parser()
    try {
      if (paused?.paused === true && !socket.destroyed) paused.resume()
    } catch {
      // undici's own checks refused: the unpausing below still keeps it from asserting.
    }
    if (paused?.paused === true) paused.paused = false
  }
  socket.prependListener("end", unpause)
  socket.prependListener("close", unpause)
}

/**
 * An undici Agent: a pool of keep-alive connections per origin, capped, with a
 * connect timeout; closed (its sockets destroyed) with the scope.
 */
export const makeDispatcher = (settings: HttpClientSettings) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const connect = buildConnector({ timeout: settings.connectTimeoutMillis })
      return new Agent({
        connections: settings.connectionsPerHost,
        pipelining: 1,
        keepAliveTimeout: settings.keepAliveMillis,
        keepAliveMaxTimeout: settings.keepAliveMillis,
        connect: (options, callback) =>
          connect(options, (...args) => {
            // undici calls back with only the error when connecting fails.
            if (args[0] === null && args[1] != null) finishPausedParser(args[1])
            callback(...args)
          })
      })
    }),
    (agent) => Effect.promise(() => agent.destroy())
  )

/**
 * @effect/platform's HttpClient over that pool (NodeHttpClient's undici
 * client), following redirects under lyra's policy (followRedirects: http(s)
 * only, capped, no credentials to another host).
 */
export const layer = (settings: HttpClientSettings): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      followRedirects(client, { ...defaultRedirectPolicy, maxRedirects: settings.maxRedirects }))
  ).pipe(
    Layer.provide(NodeHttpClient.layerUndiciWithoutDispatcher),
    Layer.provide(Layer.scoped(NodeHttpClient.Dispatcher, makeDispatcher(settings)))
  )
