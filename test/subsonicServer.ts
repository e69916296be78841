import { HttpClient, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import { createServer } from "node:http"
import type { SubsonicClientOptions } from "../src/layers/subsonic/SubsonicClient.js"
import * as SubsonicClient from "../src/layers/subsonic/SubsonicClient.js"
import * as SubsonicProvider from "../src/layers/subsonic/SubsonicProvider.js"
import { ProviderRegistry } from "../src/services/ProviderRegistry.js"

/** One request as the test server saw it. */
export interface SeenRequest {
  readonly path: string
  readonly method: string
  readonly params: URLSearchParams
  readonly headers: Readonly<Record<string, string | undefined>>
}

export type Handler = (
  request: SeenRequest
) => HttpServerResponse.HttpServerResponse | Effect.Effect<HttpServerResponse.HttpServerResponse>

export const user = "alice"
export const password = "pa55-w0rd!"

/** A Subsonic JSON answer. */
export const ok = (payload: Record<string, unknown> = {}) =>
  HttpServerResponse.unsafeJson({ "subsonic-response": { status: "ok", version: "1.16.1", ...payload } })

export const failed = (code: number, message: string) =>
  HttpServerResponse.unsafeJson({
    "subsonic-response": { status: "failed", version: "1.16.1", error: { code, message } }
  })

/** Whether a request carries valid salted-token credentials for `user` / `password`. */
export const validToken = (params: URLSearchParams) => {
  const salt = params.get("s") ?? ""
  return params.get("u") === user && salt.length >= 6 &&
    params.get("t") === createHash("md5").update(password + salt).digest("hex") && !params.has("p")
}

/**
 * What every test server answers alike: wrong credentials, `ping` and an empty
 * extension list; `undefined` for any other method, which the caller answers.
 */
export const handshake = (request: SeenRequest): HttpServerResponse.HttpServerResponse | undefined =>
  !validToken(request.params)
    ? failed(40, "Wrong username or password")
    : request.method === "ping"
    ? ok()
    : request.method === "getOpenSubsonicExtensions"
    ? ok({ openSubsonicExtensions: [] })
    : undefined

/**
 * A real HTTP server on 127.0.0.1 for the scope (@effect/platform-node's
 * NodeHttpServer), answering `/rest/<method>` with `handler`; answers its base
 * URL and the requests it saw.
 */
export const startServer = (handler: Handler) =>
  Effect.gen(function*() {
    const seen: Array<SeenRequest> = []
    const context = yield* Layer.build(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" }))
    const server = Context.get(context, HttpServer.HttpServer)
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://localhost")
      const entry: SeenRequest = {
        path: url.pathname,
        method: url.pathname.replace(/^\/rest\//, "").replace(/\.view$/, ""),
        params: url.searchParams,
        headers: request.headers
      }
      seen.push(entry)
      const answer = handler(entry)
      return Effect.isEffect(answer) ? yield* answer : answer
    })
    yield* HttpServer.serveEffect(app).pipe(Effect.provide(context))
    const address = server.address
    const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
    return { base, seen }
  })

/** A registry of just the subsonic provider, signed in as `user` to the test server at `base`, over `http`. */
export const subsonicRegistry = (
  base: string,
  http: Layer.Layer<HttpClient.HttpClient>,
  options?: SubsonicClientOptions
): Layer.Layer<ProviderRegistry> =>
  Layer.effect(
    ProviderRegistry,
    Effect.gen(function*() {
      const client = SubsonicClient.make(
        { baseUrl: base, auth: { _tag: "Password", user, password: Redacted.make(password) } },
        yield* HttpClient.HttpClient,
        options
      )
      const provider = yield* SubsonicProvider.fromClient(client)
      return new Map([[provider.name, provider]])
    })
  ).pipe(Layer.provide(http))
