import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { FaultProxy as Proxy, ProxyLogEntry, Rule } from "./support/FaultProxy.js"
import * as FaultProxy from "./support/FaultProxy.js"
import { albumId, contentOf, sha256Of, startCatalog, trackId } from "./support/catalogServer.js"
import type { FaultRunSettings, JobRun, Outcome } from "./support/faultRun.js"
import { fastSettings, runJob, verdicts } from "./support/faultRun.js"
import { password } from "./subsonicServer.js"

/**
 * Every fault the proxy can inject, against the real engine (the subsonic
 * provider over the live HTTP client, small timeouts): each track ends
 * byte-identical, or failed with a one-line reason and no final file. Never a
 * hang (a job that has not ended in 30 s fails the test), never a corrupt or
 * stray file, never a silent skip, never a credential in an event.
 */

const catalog = { albums: 1, tracks: 3, minBytes: 24_000, maxBytes: 48_000 }
const album = albumId(1)
const tracks = [1, 2, 3].map((t) => ({ album, id: trackId(1, t), sha256: sha256Of(catalog, trackId(1, t)) }))
/** The track the download faults hit; the other two must not notice. */
const target = trackId(1, 2)

/** A small CDN on another origin: serves the files to anyone, and records what it was sent. */
const startCdn = Effect.acquireRelease(
  Effect.async<{ readonly server: http.Server; readonly seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> }>(
    (resume) => {
      const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = []
      const server = http.createServer((req, res) => {
        seen.push({ url: req.url ?? "", headers: req.headers })
        const id = new URL(req.url ?? "/", "http://cdn").searchParams.get("id") ?? ""
        const bytes = contentOf(catalog, id)
        res.writeHead(200, { "content-type": "audio/flac", "content-length": bytes.length })
        res.end(bytes)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, seen })))
    }
  ),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ seen, server }) => {
  const address = server.address()
  return { base: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`, seen }
}))

interface Context {
  readonly run: JobRun
  readonly proxy: Proxy
  /** The proxy's log of the target's downloads, in order. */
  readonly downloads: ReadonlyArray<ProxyLogEntry>
  readonly cdn: { readonly base: string; readonly seen: ReadonlyArray<{ url: string; headers: http.IncomingHttpHeaders }> }
  readonly root: string | undefined
}

interface Case {
  readonly name: string
  readonly rules: (cdn: string) => ReadonlyArray<Rule>
  /** Every track intact; or the target (`track`) or the whole album (`album`) failed with a reason like this. */
  readonly expect: "intact" | { readonly track: RegExp } | { readonly album: RegExp }
  readonly onDisk?: boolean
  /** Retries of each request: a fault that never ends needs only one to show it is given up on. */
  readonly retries?: number
  readonly check?: (context: Context) => void
}

const download = (fault: FaultProxy.Fault, extra: Omit<Rule, "fault" | "method" | "id"> = {}): Rule => ({
  method: "download",
  id: target,
  ...extra,
  fault
})
const getAlbum = (fault: FaultProxy.Fault, extra: Omit<Rule, "fault" | "method"> = {}): Rule => ({
  method: "getAlbum",
  ...extra,
  fault
})

/** The target was fetched again from where the first attempt's bytes ended. */
const resumedWithRange = ({ downloads }: Context) => {
  assert.isAtLeast(downloads.length, 2)
  assert.isUndefined(downloads[0]!.range)
  assert.match(downloads[1]!.range ?? "", /^bytes=[1-9]\d*-$/, "the retry asked only for the rest")
}

const cases: ReadonlyArray<Case> = [
  {
    name: "reset mid-body, once: retried, intact",
    rules: () => [download({ _tag: "Reset" }, { times: 1 })],
    expect: "intact",
    check: ({ downloads }) => assert.isAtLeast(downloads.length, 2)
  },
  {
    name: "reset mid-body, every time: failed with the reason",
    rules: () => [download({ _tag: "Reset" })],
    retries: 1,
    expect: { track: /transfer broke|request failed|body ended after \d+ of \d+ bytes/ }
  },
  {
    name: "stall after the headers, once: caught by the stall timeout, retried, intact",
    rules: () => [download({ _tag: "Stall" }, { times: 1 })],
    expect: "intact"
  },
  {
    name: "stall mid-body, once: resumed with a Range request",
    rules: () => [download({ _tag: "Stall", afterBytes: 10_000 }, { times: 1 })],
    expect: "intact",
    check: resumedWithRange
  },
  {
    name: "stall every time: failed as stalled, no hang",
    rules: () => [download({ _tag: "Stall", afterBytes: 1000 })],
    retries: 1,
    expect: { track: /transfer stalled: no bytes for 500ms/ }
  },
  {
    name: "trickle above the lowest speed: intact in one request",
    rules: () => [download({ _tag: "Trickle", bytes: 4096, everyMillis: 20 })],
    expect: "intact",
    check: ({ downloads }) => assert.strictEqual(downloads.length, 1)
  },
  {
    name: "trickle below the lowest speed, once: aborted, resumed, intact",
    rules: () => [download({ _tag: "Trickle", bytes: 512, everyMillis: 100 }, { times: 1 })],
    expect: "intact",
    check: resumedWithRange
  },
  {
    name: "trickle below the lowest speed, every time: failed as too slow",
    rules: () => [download({ _tag: "Trickle", bytes: 256, everyMillis: 100 })],
    retries: 1,
    expect: { track: /transfer too slow: under 8192 bytes in 1s/ }
  },
  {
    name: "a burst of 500, 502, 503: retried, intact",
    rules: () => [
      download({ _tag: "Status", status: 500 }, { nth: 1 }),
      download({ _tag: "Status", status: 502 }, { nth: 2 }),
      download({ _tag: "Status", status: 503 }, { nth: 3 })
    ],
    expect: "intact",
    check: ({ downloads }) => assert.isAtLeast(downloads.length, 4)
  },
  {
    name: "500 every time: failed with the status",
    rules: () => [download({ _tag: "Status", status: 500 })],
    retries: 1,
    expect: { track: /HTTP 500/ }
  },
  {
    name: "a storm of 429 with Retry-After: waited out, intact",
    rules: () => [download({ _tag: "Status", status: 429, retryAfter: "1" }, { times: 2 })],
    expect: "intact",
    check: ({ run }) =>
      assert.isTrue(run.events.some((e) => e._tag === "RateLimited" && e.retryAfterMillis === 1000), "Retry-After read")
  },
  {
    name: "a storm of 429 without Retry-After: backed off, intact",
    rules: () => [download({ _tag: "Status", status: 429 }, { times: 3 })],
    expect: "intact"
  },
  {
    name: "429 every time: failed as rate limited",
    rules: () => [download({ _tag: "Status", status: 429 })],
    retries: 1,
    expect: { track: /rate limited \(HTTP 429/ }
  },
  {
    name: "body closed short of its Content-Length, once: resumed with a Range request",
    rules: () => [download({ _tag: "ShortBody", afterBytes: 12_000 }, { times: 1 })],
    expect: "intact",
    check: (context) => {
      resumedWithRange(context)
      assert.strictEqual(context.downloads[1]!.range, "bytes=12000-")
    }
  },
  {
    name: "a Content-Length larger than the body, once: resumed, intact",
    rules: () => [download({ _tag: "WrongLength", delta: 5000 }, { times: 1 })],
    expect: "intact",
    // The body was whole, so the .part may be committed without asking again; if asked, only for the rest.
    check: ({ downloads }) => {
      for (const later of downloads.slice(1)) assert.match(later.range ?? "", /^bytes=[1-9]\d*-$/)
    }
  },
  {
    name: "a Content-Length smaller than the body, once: the size check restarts it, intact",
    rules: () => [download({ _tag: "WrongLength", delta: -5000 }, { times: 1 })],
    expect: "intact",
    check: ({ downloads }) => assert.isUndefined(downloads[1]?.range, "a corrupt part is never resumed from")
  },
  {
    name: "a Content-Length smaller than the body, every time: failed, nothing short kept",
    rules: () => [download({ _tag: "WrongLength", delta: -5000 })],
    retries: 1,
    expect: { track: /integrity check failed \(expected \d+ bytes, got \d+\)/ }
  },
  {
    name: "an HTML error page as 200 text/html, once: refused, retried, intact",
    rules: () => [download({ _tag: "HtmlPage" }, { times: 1 })],
    expect: "intact"
  },
  {
    name: "an HTML error page every time: failed, the page never saved",
    rules: () => [download({ _tag: "HtmlPage" })],
    retries: 1,
    expect: { track: /sent text\/html; charset=utf-8 instead of audio/ },
    check: ({ run }) => {
      for (const bytes of run.files.values()) assert.notInclude(Buffer.from(bytes).toString("latin1"), "Bad Gateway")
    }
  },
  {
    name: "a redirect loop: stopped at the cap, failed, not retried",
    rules: () => [download({ _tag: "RedirectLoop" })],
    expect: { track: /redirects: more than 5 in a row/ },
    check: ({ downloads }) => assert.strictEqual(downloads.length, 1)
  },
  {
    name: "a redirect within the server, once: followed, intact",
    rules: () => [download({ _tag: "Redirect", location: (pathAndQuery) => pathAndQuery }, { times: 1 })],
    expect: "intact"
  },
  {
    name: "a redirect to file: is refused",
    rules: () => [download({ _tag: "Redirect", location: () => "file:///etc/passwd" })],
    expect: { track: /redirect to file: refused/ }
  },
  {
    name: "a redirect to ftp: is refused",
    rules: () => [download({ _tag: "Redirect", location: () => "ftp://127.0.0.1/song.flac" })],
    expect: { track: /redirect to ftp: refused/ }
  },
  {
    name: "a redirect to another host: followed without the credentials",
    rules: (cdn) => [
      // A naive server hands its whole query, credentials and all, to the other host.
      download({ _tag: "Redirect", location: (pathAndQuery) => `${cdn}/media${pathAndQuery.replace(/^[^?]*/, "")}` })
    ],
    expect: "intact",
    check: ({ cdn }) => {
      assert.isAtLeast(cdn.seen.length, 1)
      for (const request of cdn.seen) {
        const params = new URL(request.url, "http://cdn").searchParams
        assert.strictEqual(params.get("id"), target, "what is not a credential still goes")
        for (const name of ["u", "t", "s", "p", "apiKey"]) assert.isFalse(params.has(name), `no ${name}= to another host`)
        assert.notInclude(request.url, encodeURIComponent(password))
        assert.isUndefined(request.headers["authorization"])
      }
    }
  },
  {
    name: "a hostile Content-Disposition chooses no path",
    rules: () => [
      download({
        _tag: "ExtraHeader",
        name: "content-disposition",
        value: `attachment; filename="../../../../evil.flac"; filename*=UTF-8''..%2F..%2Fevil.flac`
      })
    ],
    expect: "intact",
    onDisk: true,
    check: ({ root, run }) => {
      const parent = join(root!, "..")
      assert.deepStrictEqual(readdirSync(parent), ["library"], "nothing beside the library")
      assert.deepStrictEqual([...run.files.keys()].sort(), ["Album 1/1. Song 1.flac", "Album 1/2. Song 2.flac", "Album 1/3. Song 3.flac"])
    }
  },
  {
    name: "malformed JSON: the album fails, saying so, without retrying",
    rules: () => [getAlbum({ _tag: "MalformedJson" })],
    expect: { album: /getAlbum for album al-1 was malformed JSON/ },
    check: ({ proxy }) => assert.strictEqual(proxy.log.filter((e) => e.method === "getAlbum").length, 1)
  },
  {
    name: "truncated JSON, once: retried, intact",
    rules: () => [getAlbum({ _tag: "TruncatedJson" }, { times: 1 })],
    expect: "intact"
  },
  {
    name: "truncated JSON every time: the album fails, saying so",
    rules: () => [getAlbum({ _tag: "TruncatedJson" })],
    retries: 1,
    expect: { album: /getAlbum for album al-1 was JSON cut short/ }
  },
  {
    name: "oversized JSON with its length: refused before reading",
    rules: () => [getAlbum({ _tag: "OversizedJson", bytes: 64 * 1024 * 1024, declareLength: true })],
    expect: { album: /getAlbum for album al-1 is 64 MiB, over the 0.3 MiB lyra reads/ }
  },
  {
    name: "oversized JSON, chunked: cut off at the cap",
    rules: () => [getAlbum({ _tag: "OversizedJson", bytes: 64 * 1024 * 1024, declareLength: false })],
    expect: { album: /getAlbum for album al-1 runs past the 0.3 MiB lyra reads/ }
  },
  {
    name: "API answer reset, stalled, 502 and 429: retried, intact",
    rules: () => [
      getAlbum({ _tag: "Reset", afterBytes: 100 }, { nth: 1 }),
      getAlbum({ _tag: "Stall", afterBytes: 100 }, { nth: 2 }),
      getAlbum({ _tag: "Status", status: 502 }, { nth: 3 }),
      getAlbum({ _tag: "Status", status: 429, retryAfter: "1" }, { nth: 4 })
    ],
    expect: "intact"
  },
  {
    name: "API redirect loop: the album fails at the cap",
    rules: () => [getAlbum({ _tag: "RedirectLoop" })],
    expect: { album: /redirects: more than 5 in a row \(a loop\?\) for album al-1/ }
  },
  {
    name: "API HTML page as 200: the album fails, saying it is not Subsonic JSON",
    rules: () => [getAlbum({ _tag: "HtmlPage" })],
    expect: { album: /getAlbum did not answer Subsonic JSON/ }
  }
]

/** Small timeouts; the API answer timeout covers the stalled getAlbum. */
const settings: FaultRunSettings = {
  ...fastSettings,
  transport: {
    response: Duration.seconds(2),
    stall: Duration.millis(500),
    lowSpeed: { bytes: 8 * 1024, window: Duration.seconds(1) }
  },
  client: { ...fastSettings.client, answerTimeout: Duration.seconds(1) }
}

const runCase = (c: Case) =>
  Effect.gen(function*() {
    const root = c.onDisk === true
      ? yield* Effect.acquireRelease(
        Effect.sync(() => join(mkdtempSync(join(tmpdir(), "lyra-faults-")), "library")),
        (dir) => Effect.sync(() => rmSync(join(dir, ".."), { recursive: true, force: true }))
      )
      : undefined
    const server = yield* startCatalog(catalog)
    const cdn = yield* startCdn
    const proxy = yield* FaultProxy.start(server.base, FaultProxy.rules(c.rules(cdn.base)))
    const run = yield* runJob(
      proxy.base,
      [`subsonic:album:${album}`],
      {
        ...settings,
        retry: { ...settings.retry, retries: c.retries ?? settings.retry.retries },
        ...(root === undefined ? {} : { library: { _tag: "Disk", root } })
      },
      Duration.seconds(30)
    )
    assert.isDefined(run.report, "the job ended: no hang")
    const { byTrack, strays } = verdicts(run, tracks)
    assert.deepStrictEqual(strays, [], "no final file but the intact tracks'")
    const expected = (id: string): { outcome: Outcome; reason?: RegExp } =>
      c.expect === "intact"
        ? { outcome: "intact" }
        : "album" in c.expect
        ? { outcome: "failed", reason: c.expect.album }
        : id === target
        ? { outcome: "failed", reason: c.expect.track }
        : { outcome: "intact" }
    for (const track of tracks) {
      const verdict = byTrack.get(track.id)!
      const want = expected(track.id)
      assert.strictEqual(verdict.outcome, want.outcome, `${track.id}: ${verdict.reason ?? ""}`)
      if (want.reason !== undefined) assert.match(verdict.reason ?? "", want.reason)
    }
    assert.strictEqual(run.report!.done, c.expect === "intact" ? 3 : "album" in c.expect ? 0 : 2)
    const injected = proxy.log.filter((e) => e.fault !== undefined).length
    assert.isAtLeast(injected, 1, "the fault was injected")
    // No credential in any event: not the password, no signed query.
    const text = JSON.stringify(run.events)
    assert.notInclude(text, password)
    assert.notMatch(text, /[?&](t|s|p|u|apiKey)=/)
    c.check?.({
      run,
      proxy,
      downloads: proxy.log.filter((e) => e.method === "download" && e.id === target),
      cdn,
      root
    })
  }).pipe(Effect.scoped)

describe("faults injected by the proxy, against the real engine", () => {
  for (const c of cases) it.live(c.name, () => runCase(c))
})
