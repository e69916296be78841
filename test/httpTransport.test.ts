import { HttpServerResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Layer, Stream } from "effect"
import * as HttpClientLive from "../src/layers/HttpClientLive.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import { Transport } from "../src/services/Transport.js"
import type { Handler } from "./subsonicServer.js"
import { startServer } from "./subsonicServer.js"

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251)

const audio = (body: Uint8Array, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.uint8Array(body, { status, contentType: "audio/flac", headers })

/** A server that serves `bytes`, honouring `Range: bytes=N-`. */
const ranged: Handler = (request) => {
  const range = /^bytes=(\d+)-$/.exec(request.headers["range"] ?? "")
  if (range === null) return audio(bytes)
  const start = Number(range[1])
  return audio(bytes.subarray(start), 206, { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` })
}

const transportLayer = (timeouts = HttpTransportLive.defaultTimeouts) =>
  HttpTransportLive.layerWith(timeouts).pipe(Layer.provide(HttpClientLive.layer()))

/** Opens `path` on a server answering with `handler`, from `offset`, and reads it whole. */
const fetch = (handler: Handler, offset = 0, timeouts = HttpTransportLive.defaultTimeouts) =>
  Effect.gen(function*() {
    const server = yield* startServer(handler)
    const transport = yield* Transport
    const opened = yield* transport.open("test", { _tag: "HttpBody", url: `${server.base}/rest/download?id=1&t=secret`, headers: { "x-test": "1" } }, offset)
    const chunks = yield* Stream.runCollect(opened.bytes)
    const body = Uint8Array.from(Chunk.toReadonlyArray(chunks).flatMap((chunk) => [...chunk]))
    return { offset: opened.offset, body, seen: server.seen }
  }).pipe(Effect.scoped, Effect.provide(transportLayer(timeouts)))

describe("HttpTransportLive against a real server", () => {
  it.live("a Range request resumes where the .part ends", () =>
    Effect.gen(function*() {
      const got = yield* fetch(ranged, 4000)
      assert.strictEqual(got.offset, 4000)
      assert.deepStrictEqual(got.body, bytes.subarray(4000))
      assert.strictEqual(got.seen[0]!.headers["range"], "bytes=4000-")
      assert.strictEqual(got.seen[0]!.headers["x-test"], "1")
    }))

  it.live("a server that ignores the range sends it all again, from 0", () =>
    Effect.gen(function*() {
      const got = yield* fetch(() => audio(bytes), 4000)
      assert.strictEqual(got.offset, 0)
      assert.deepStrictEqual(got.body, bytes)
    }))

  it.live("429 and 503, with and without Retry-After, are rate limits; nothing is read as track bytes", () =>
    Effect.gen(function*() {
      const limited = yield* Effect.flip(fetch(() => HttpServerResponse.text("slow down", { status: 429, headers: { "retry-after": "2" } })))
      assert.strictEqual(limited._tag, "RateLimitedError")
      assert.strictEqual((limited as { retryAfterMillis?: number }).retryAfterMillis, 2000)
      const bare = yield* Effect.flip(fetch(() => HttpServerResponse.text("busy", { status: 503 })))
      assert.strictEqual(bare._tag, "RateLimitedError")
      assert.isUndefined((bare as { retryAfterMillis?: number }).retryAfterMillis)
    }))

  it.live("an error page sent as 200 is refused, and so is a body that ends short", () =>
    Effect.gen(function*() {
      const page = yield* Effect.flip(fetch(() => HttpServerResponse.text("<html>login</html>", { status: 200, contentType: "text/html" })))
      assert.strictEqual(page._tag, "TransientError")
      assert.match(page.message, /text\/html instead of audio/)
      const short = yield* Effect.flip(fetch(() =>
        HttpServerResponse.stream(Stream.make(bytes.subarray(0, 100)), {
          contentType: "audio/flac",
          headers: { "content-length": String(bytes.length) }
        }), 0, { response: Duration.seconds(5), stall: Duration.seconds(1) }))
      // Cut short (the server hangs up) or stalled (it keeps the connection): never complete.
      assert.strictEqual(short._tag, "TransientError")
      assert.match(short.message, /body ended after 100 of 10000 bytes|transfer broke|transfer stalled/)
    }))

  it.live("a transfer that stalls is aborted as transient, and no error shows the URL", () =>
    Effect.gen(function*() {
      const stalled = yield* Effect.flip(fetch(
        () =>
          HttpServerResponse.stream(
            Stream.concat(Stream.make(bytes.subarray(0, 100)), Stream.fromEffect(Effect.never)),
            { contentType: "audio/flac", headers: { "content-length": String(bytes.length) } }
          ),
        0,
        { response: Duration.seconds(5), stall: Duration.millis(300) }
      ))
      assert.strictEqual(stalled._tag, "TransientError")
      assert.match(stalled.message, /transfer stalled: no bytes for 300ms after 100/)
      assert.notInclude(stalled.message, "secret")
    }))

  it.live("a response that never comes times out", () =>
    Effect.gen(function*() {
      const slow = yield* Effect.flip(fetch(
        () => Effect.as(Effect.sleep(Duration.seconds(5)), audio(bytes)),
        0,
        { response: Duration.millis(300), stall: Duration.seconds(5) }
      ))
      assert.strictEqual(slow._tag, "TransientError")
      assert.match(slow.message, /no answer within 300ms/)
    }))

  it.live("a refused connection is transient and shows no URL", () =>
    Effect.gen(function*() {
      const transport = yield* Transport
      const error = yield* Effect.flip(Effect.scoped(transport.open("test", { _tag: "HttpBody", url: "http://127.0.0.1:9/rest/download?t=secret", headers: {} }, 0)))
      assert.strictEqual(error._tag, "TransientError")
      assert.notInclude(error.message, "secret")
    }).pipe(Effect.provide(transportLayer())))
})
