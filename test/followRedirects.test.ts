import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { followRedirects } from "../src/layers/followRedirects.js"

/** One request as the stub server saw it: its full URL and headers. */
interface Sent {
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
}

/** A client whose every request is answered by `answer` (a Location to redirect to, or undefined for 200). */
const stub = (answer: (url: URL, n: number) => string | undefined) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      sent.push({ url, headers: request.headers })
      const location = answer(url, sent.length)
      return HttpClientResponse.fromWeb(
        request,
        location === undefined
          ? new Response("ok", { status: 200 })
          : new Response(null, { status: 302, headers: { location } })
      )
    })
  )
  return { client: followRedirects(client), sent }
}

const signed = "https://music.example.com/rest/download?id=tr-1&u=alice&t=0123456789abcdef0123456789abcdef&s=a1b2c3d4e5f6&v=1.16.1&c=lyra"

const get = (client: HttpClient.HttpClient, url = signed, headers: Record<string, string> = {}) =>
  client.execute(HttpClientRequest.get(url, { headers }))

describe("followRedirects", () => {
  it.effect("within one origin a redirect is followed as it is, headers and all", () =>
    Effect.gen(function*() {
      const { client, sent } = stub((url) => url.pathname === "/rest/download" ? `/media/tr-1${url.search}` : undefined)
      const response = yield* get(client, signed, { range: "bytes=10-", authorization: "Bearer x" })
      assert.strictEqual(response.status, 200)
      assert.strictEqual(sent[1]!.url.pathname, "/media/tr-1")
      assert.strictEqual(sent[1]!.url.searchParams.get("t"), "0123456789abcdef0123456789abcdef")
      assert.strictEqual(sent[1]!.headers["authorization"], "Bearer x")
      assert.strictEqual(sent[1]!.headers["range"], "bytes=10-")
    }))

  it.effect("to another host it carries no credential: not in the query, not in a header", () =>
    Effect.gen(function*() {
      const { client, sent } = stub((url, n) => n === 1 ? `https://cdn.example.net/f${url.search}&sig=cdn-own-signature` : undefined)
      yield* get(client, signed, { range: "bytes=10-", authorization: "Bearer x", cookie: "session=1" })
      const hop = sent[1]!
      assert.strictEqual(hop.url.host, "cdn.example.net")
      for (const name of ["u", "t", "s"]) assert.isFalse(hop.url.searchParams.has(name), name)
      assert.strictEqual(hop.url.searchParams.get("id"), "tr-1")
      assert.strictEqual(hop.url.searchParams.get("sig"), "cdn-own-signature", "the other host's own parameters stay")
      assert.isUndefined(hop.headers["authorization"])
      assert.isUndefined(hop.headers["cookie"])
      assert.strictEqual(hop.headers["range"], "bytes=10-", "how to fetch still goes")
    }))

  it.effect("a credential the server moved into another parameter is dropped too", () =>
    Effect.gen(function*() {
      const { client, sent } = stub((_url, n) => n === 1 ? "https://cdn.example.net/f?token=0123456789abcdef0123456789abcdef" : undefined)
      yield* get(client)
      assert.strictEqual(sent[1]!.url.search, "")
    }))

  it.effect("never to a scheme other than http(s), never from https down to http", () =>
    Effect.gen(function*() {
      for (const location of ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "data:text/plain,hi"]) {
        const { client, sent } = stub((_url, n) => n === 1 ? location : undefined)
        const error = yield* Effect.flip(get(client))
        assert.strictEqual(error._tag, "ResponseError")
        assert.match(error._tag === "ResponseError" ? error.description ?? "" : "", /^redirect to [a-z]+: refused/)
        assert.strictEqual(sent.length, 1)
      }
      const { client, sent } = stub((_url, n) => n === 1 ? "http://music.example.com/rest/download" : undefined)
      const error = yield* Effect.flip(get(client))
      assert.strictEqual(error._tag === "ResponseError" ? error.description : "", "redirect from https down to http refused")
      assert.strictEqual(sent.length, 1)
    }))

  it.effect("at most 5 in a row; the 6th fails, and its words hold no URL", () =>
    Effect.gen(function*() {
      const { client, sent } = stub((url) => `/loop${url.search}`)
      const error = yield* Effect.flip(get(client))
      assert.strictEqual(sent.length, 6)
      const description = error._tag === "ResponseError" ? error.description ?? "" : ""
      assert.strictEqual(description, "redirects: more than 5 in a row (a loop?)")
    }))

  it.effect("a POST is not redirected", () =>
    Effect.gen(function*() {
      const { client, sent } = stub(() => "/elsewhere")
      const response = yield* client.execute(HttpClientRequest.post(signed))
      assert.strictEqual(response.status, 302)
      assert.strictEqual(sent.length, 1)
    }))
})
