import { HttpClient, HttpServerResponse } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MediaRef } from "../src/domain/MediaRef.js"
import { Track } from "../src/domain/Track.js"
import * as HttpClientLive from "../src/layers/HttpClientLive.js"
import * as SubsonicClient from "../src/layers/subsonic/SubsonicClient.js"
import type { SubsonicAuth } from "../src/layers/subsonic/SubsonicConfig.js"
import { load, normalizeBaseUrl, settingsOf } from "../src/layers/subsonic/SubsonicConfig.js"
import { unconfigured } from "../src/layers/subsonic/SubsonicInfo.js"
import * as SubsonicProvider from "../src/layers/subsonic/SubsonicProvider.js"
import { makeRedactor, redactUrl } from "../src/layers/subsonic/SubsonicRedact.js"
import { parseWebUrl } from "../src/layers/subsonic/SubsonicUrl.js"
import type { Handler } from "./subsonicServer.js"
import { failed, ok, password, startServer, user, validToken } from "./subsonicServer.js"

const passwordAuth: SubsonicAuth = { _tag: "Password", user, password: Redacted.make(password) }

/** A provider over a real local server answering with `handler`. */
const providerFor = (handler: Handler, auth: SubsonicAuth = passwordAuth) =>
  Effect.gen(function*() {
    const server = yield* startServer(handler)
    const client = SubsonicClient.make({ baseUrl: server.base, auth }, yield* HttpClient.HttpClient)
    return { server, client, provider: yield* SubsonicProvider.fromClient(client) }
  })

/** Runs a test against a real server, on a real clock, with lyra's HTTP pool. */
const live = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | import("effect").Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(HttpClientLive.layer()))

// -- fixtures in the shapes real servers answer (gonic's and Navidrome's testdata) -----------------

const song = (id: string, track: number, extra: Record<string, unknown> = {}) => ({
  id,
  parent: "al-4",
  isDir: false,
  title: `Song ${track}`,
  album: "album-ab",
  albumId: "al-4",
  artist: "artist-a",
  artistId: "ar-1",
  artists: [{ id: "ar-1", name: "artist-a" }, { id: "ar-9", name: "guest-b" }],
  displayArtist: "artist-a feat. guest-b",
  albumArtists: [{ id: "ar-1", name: "artist-a" }],
  displayAlbumArtist: "artist-a",
  displayComposer: "Composer A!",
  track,
  discNumber: 1,
  year: 2019,
  genre: "Rock",
  genres: [{ name: "Rock" }, { name: "Pop" }],
  coverArt: "al-4",
  size: 1000 + track,
  contentType: "audio/flac",
  suffix: "flac",
  duration: 100,
  bitRate: 880,
  bitDepth: 16,
  samplingRate: 44100,
  isrc: [],
  explicitStatus: "",
  replayGain: null,
  musicBrainzId: "",
  ...extra
})

const album = {
  id: "al-4",
  created: "2019-11-30T00:00:00Z",
  artistId: "ar-1",
  artist: "artist-a",
  displayArtist: "artist-a",
  name: "album-ab",
  coverArt: "al-4",
  songCount: 3,
  duration: 300,
  year: 2019,
  genres: [{ name: "Rock" }],
  recordLabels: [{ name: "Domino" }],
  song: [
    song("tr-4", 1),
    // Older servers send numbers as strings, and nulls.
    song("tr-5", 2, { track: "2", discNumber: "2", size: "1002", year: null, isrc: ["USSM18300073"] }),
    song(6 as unknown as string, 3, { explicitStatus: "explicit" })
  ]
}

const catalog: Handler = (request) => {
  if (!validToken(request.params)) return failed(40, "Wrong username or password")
  const id = request.params.get("id")
  switch (request.method) {
    case "ping":
      return ok()
    case "getArtist":
      return id === "ar-1"
        ? ok({ artist: { id: "ar-1", name: "artist-a", albumCount: 2, album: [{ id: "al-4", name: "album-ab" }, { id: 7, name: "second" }] } })
        : failed(70, "artist not found")
    case "getAlbum":
      return id === "al-4" ? ok({ album }) : failed(70, "album not found")
    case "getSong":
      return id === "tr-4" ? ok({ song: album.song[0] }) : failed(70, "song not found")
    case "getPlaylist":
      // One entry, sent as a bare object the way XML-converted answers do.
      return ok({ playlist: { id: "pl-1", name: "shared playlist", owner: "admin", comment: "for testing", entry: song("tr-4", 1) } })
    case "getPlaylists":
      return ok({ playlists: { playlist: [{ id: "pl-1", name: "Shared Playlist" }, { id: "pl-2", name: "other" }] } })
    case "search3":
      return ok({
        searchResult3: {
          artist: [{ id: "ar-1", name: "artist-a", albumCount: 1 }],
          album: [{ id: "al-4", name: "album-ab", artist: "artist-a", year: 2019 }],
          song: [song("tr-4", 1)]
        }
      })
    case "getOpenSubsonicExtensions":
      return ok({ openSubsonicExtensions: [{ name: "songLyrics", versions: [1] }] })
    case "getLyricsBySongId":
      return ok({
        lyricsList: {
          structuredLyrics: [
            { lang: "eng", synced: true, offset: 0, line: [{ start: 0, value: "It's bugging me" }, { start: 62500, value: "Grating me" }] },
            { lang: "und", synced: false, line: [{ value: "It's bugging me" }, { value: "Grating me" }] }
          ]
        }
      })
    default:
      return HttpServerResponse.text("no such page", { status: 404 })
  }
}

describe("subsonic: token authentication", () => {
  it.live("every request carries the user, a fresh salt and md5(password + salt), never the password", () =>
    live(Effect.gen(function*() {
      const { provider, server } = yield* providerFor(catalog)
      yield* provider.ping
      yield* provider.album("al-4")
      yield* provider.artist("ar-1")
      assert.strictEqual(server.seen.length, 3)
      for (const request of server.seen) {
        assert.isTrue(validToken(request.params), request.params.toString())
        assert.strictEqual(request.params.get("v"), "1.16.1")
        assert.strictEqual(request.params.get("c"), "lyra")
        assert.strictEqual(request.params.get("f"), "json")
        assert.notInclude(request.params.toString(), encodeURIComponent(password))
      }
      const salts = new Set(server.seen.map((r) => r.params.get("s")))
      assert.strictEqual(salts.size, 3, "a fresh salt per request")
    })))

  it.live("an OpenSubsonic API key is sent alone, without u, t or s", () =>
    live(Effect.gen(function*() {
      const { provider, server } = yield* providerFor(
        (request) => request.params.get("apiKey") === "k3y" ? ok() : failed(44, "Invalid API key"),
        { _tag: "ApiKey", apiKey: Redacted.make("k3y") }
      )
      yield* provider.ping
      const params = server.seen[0]!.params
      assert.isFalse(params.has("u") || params.has("t") || params.has("s") || params.has("p"))
    })))

  it.live("wrong credentials stop the job before it starts, with a one-line UsageError", () =>
    live(Effect.gen(function*() {
      const { provider } = yield* providerFor(() => failed(40, "Wrong username or password"))
      const error = yield* Effect.flip(provider.ready!)
      assert.strictEqual(error._tag, "UsageError")
      assert.strictEqual(error.message, "subsonic: unauthorized (wrong username or password)")
    })))
})

describe("subsonic: decoding each endpoint", () => {
  it.live("getAlbum lists its songs inline, as full tracks", () =>
    live(Effect.gen(function*() {
      const { provider } = yield* providerFor(catalog)
      const got = yield* provider.album("al-4")
      assert.strictEqual(got.title, "album-ab")
      assert.strictEqual(got.artist, "artist-a")
      assert.deepStrictEqual(got.trackIds, ["tr-4", "tr-5", "6"])
      assert.strictEqual(got.releaseYear, 2019)
      assert.strictEqual(got.label, "Domino")
      const [first, second, third] = got.tracks!
      assert.strictEqual(first!.title, "Song 1")
      assert.deepStrictEqual(first!.artists, ["artist-a", "guest-b"])
      assert.strictEqual(first!.albumArtist, "artist-a")
      assert.strictEqual(first!.trackNumber, 1)
      assert.strictEqual(first!.totalTracks, 3)
      assert.strictEqual(first!.totalDiscs, 2)
      assert.strictEqual(first!.sizeBytes, 1001)
      assert.strictEqual(first!.codec, "flac")
      assert.strictEqual(first!.sampleRate, 44100)
      assert.strictEqual(first!.composer, "Composer A!")
      assert.deepStrictEqual(first!.genres, ["Rock", "Pop"])
      assert.isUndefined(first!.isrc)
      assert.strictEqual(second!.trackNumber, 2)
      assert.strictEqual(second!.discNumber, 2)
      assert.strictEqual(second!.sizeBytes, 1002)
      assert.strictEqual(second!.releaseYear, 2019, "a null year falls back to the album's")
      assert.strictEqual(second!.isrc, "USSM18300073")
      assert.strictEqual(third!.id, "6", "numeric ids become strings")
      assert.isTrue(third!.explicit)
    })))

  it.live("getArtist, getSong, getPlaylist and search3", () =>
    live(Effect.gen(function*() {
      const { provider, server } = yield* providerFor(catalog)
      const artist = yield* provider.artist("ar-1")
      assert.deepStrictEqual(artist.albumIds, ["al-4", "7"])
      assert.strictEqual(artist.name, "artist-a")
      const track = yield* provider.track("tr-4")
      assert.strictEqual(track.album, "album-ab")
      assert.strictEqual(track.albumId, "al-4")
      const playlist = yield* provider.playlist("pl-1")
      assert.strictEqual(playlist.creator, "admin")
      assert.strictEqual(playlist.description, "for testing")
      assert.deepStrictEqual(playlist.trackIds, ["tr-4"])
      assert.strictEqual(playlist.tracks!.length, 1)
      const artists = yield* provider.search("artist", "artist", 5)
      assert.deepStrictEqual(artists.map((r) => [r.kind, r.id, r.name]), [["artist", "ar-1", "artist-a"]])
      const albums = yield* provider.search("album", "album", 5)
      assert.deepStrictEqual(albums.map((r) => [r.id, r.artists, r.year]), [["al-4", ["artist-a"], 2019]])
      const songs = yield* provider.search("track", "song", 5)
      assert.deepStrictEqual(songs.map((r) => [r.id, r.name]), [["tr-4", "Song 1"]])
      const search = server.seen.find((r) => r.method === "search3" && r.params.get("query") === "song")!
      assert.strictEqual(search.params.get("songCount"), "5")
      assert.strictEqual(search.params.get("artistCount"), "0")
      const playlists = yield* provider.search("playlist", "shared", 5)
      assert.deepStrictEqual(playlists.map((r) => r.id), ["pl-1"])
    })))

  it.live("download, getCoverArt and getLyricsBySongId", () =>
    live(Effect.gen(function*() {
      const { provider } = yield* providerFor(catalog)
      const got = yield* provider.album("al-4")
      const track = got.tracks![0]!
      const source = yield* provider.source(track, "lossless")
      assert.strictEqual(source.container, "flac")
      assert.strictEqual(source.sizeBytes, 1001)
      assert.strictEqual(source.body._tag, "HttpBody")
      const url = new URL((source.body as { url: string }).url)
      assert.strictEqual(url.pathname, "/rest/download")
      assert.strictEqual(url.searchParams.get("id"), "tr-4")
      assert.isTrue(validToken(url.searchParams))
      // A suffix that is no file extension gives none of its own.
      for (const codec of ["../flac", "fl ac", ""]) {
        assert.strictEqual((yield* provider.source(new Track({ ...track, codec }), "hifi")).container, "bin", codec)
      }
      const cover = yield* provider.cover!(track, 600)
      const coverUrl = new URL((cover.body as { url: string }).url)
      assert.strictEqual(coverUrl.pathname, "/rest/getCoverArt")
      assert.strictEqual(coverUrl.searchParams.get("id"), "al-4")
      assert.strictEqual(coverUrl.searchParams.get("size"), "600")
      const lyrics = yield* provider.lyrics!(track)
      assert.strictEqual(lyrics.synced, "[00:00.00]It's bugging me\n[01:02.50]Grating me")
      assert.strictEqual(lyrics.unsynced, "It's bugging me\nGrating me")
    })))

  it.live("a server without the songLyrics extension loses the lyrics method once ready, so no call is made", () =>
    live(Effect.gen(function*() {
      const { provider, server } = yield* providerFor((request) =>
        request.method === "getOpenSubsonicExtensions" ? ok({ openSubsonicExtensions: [] }) : ok()
      )
      assert.isDefined(provider.lyrics)
      yield* provider.ready!
      assert.isUndefined(provider.lyrics)
      assert.deepStrictEqual(server.seen.map((r) => r.method), ["ping", "getOpenSubsonicExtensions"])
    })))
})

describe("subsonic: errors", () => {
  const answering = (response: HttpServerResponse.HttpServerResponse) =>
    live(Effect.gen(function*() {
      const { provider } = yield* providerFor(() => response)
      return yield* Effect.flip(provider.album("al-1"))
    }))

  it.live("status: failed answers map to typed errors with clear messages", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [number, string, string]> = [
        [40, "UnauthorizedError", "subsonic: unauthorized (wrong username or password)"],
        [41, "UnauthorizedError", "subsonic: unauthorized (token authentication is not supported for this (LDAP) user; set LYRA_SUBSONIC_API_KEY instead)"],
        [42, "UnauthorizedError", "subsonic: unauthorized (the server only accepts API keys; set LYRA_SUBSONIC_API_KEY)"],
        [44, "UnauthorizedError", "subsonic: unauthorized (invalid API key)"],
        [50, "UnauthorizedError", "subsonic: unauthorized (not allowed to read album al-1: no access)"],
        [70, "NotFoundError", "subsonic: album al-1 not found"],
        [10, "InvalidError", "subsonic: invalid request for album al-1, a required parameter is missing: no access"],
        [0, "TransientError", "subsonic: server error 0 on album al-1: no access"]
      ]
      for (const [code, tag, message] of cases) {
        const error = yield* answering(failed(code, code === 40 || code > 40 && code < 50 ? "x" : "no access"))
        assert.strictEqual(error._tag, tag, `code ${code}`)
        assert.strictEqual(error.message, message, `code ${code}`)
        assert.notInclude(error.message, "\n")
      }
    }))

  it.live("429 and 503, with and without Retry-After, are rate limits", () =>
    Effect.gen(function*() {
      const withHeader = yield* answering(HttpServerResponse.text("slow down", { status: 429, headers: { "retry-after": "3" } }))
      assert.strictEqual(withHeader._tag, "RateLimitedError")
      assert.strictEqual((withHeader as { retryAfterMillis?: number }).retryAfterMillis, 3000)
      const without = yield* answering(HttpServerResponse.text("slow down", { status: 429 }))
      assert.strictEqual(without._tag, "RateLimitedError")
      assert.isUndefined((without as { retryAfterMillis?: number }).retryAfterMillis)
      const busy = yield* answering(HttpServerResponse.text("busy", { status: 503, headers: { "retry-after": "1" } }))
      assert.strictEqual(busy._tag, "RateLimitedError")
      assert.strictEqual((busy as { status?: number }).status, 503)
    }))

  it.live("other HTTP statuses and non-Subsonic answers", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* answering(HttpServerResponse.text("no", { status: 401 })))._tag, "UnauthorizedError")
      assert.strictEqual((yield* answering(HttpServerResponse.text("oops", { status: 500 })))._tag, "TransientError")
      const notFound = yield* answering(HttpServerResponse.text("<html>404</html>", { status: 404 }))
      assert.strictEqual(notFound._tag, "InvalidError")
      assert.match(notFound.message, /HTTP 404 .*LYRA_SUBSONIC_URL/)
      const html = yield* answering(HttpServerResponse.text("<html>login</html>", { status: 200 }))
      assert.match(html.message, /did not answer Subsonic JSON/)
      const broken = yield* answering(ok({ album: { id: "al-1", song: [{ title: "no id" }] } }))
      assert.strictEqual(broken._tag, "InvalidError")
      assert.match(broken.message, /^subsonic: invalid answer: getAlbum for album al-1: /)
    }))

  it.live("an unreachable server is a transient error that shows no URL", () =>
    live(Effect.gen(function*() {
      const client = SubsonicClient.make({ baseUrl: "http://127.0.0.1:9", auth: passwordAuth }, yield* HttpClient.HttpClient)
      const provider = yield* SubsonicProvider.fromClient(client)
      const error = yield* Effect.flip(provider.album("al-1"))
      assert.strictEqual(error._tag, "TransientError")
      assert.match(error.message, /^subsonic: request for album al-1 failed/)
      assert.notMatch(error.message, /[?&](u|t|s)=|rest\//)
    })))
})

describe("subsonic: secrets never show", () => {
  it.effect("redactUrl hides p, t, s and apiKey, and a password in the user info", () =>
    Effect.sync(() => {
      assert.strictEqual(
        redactUrl("https://m.example/rest/download?id=1&u=alice&t=0123abcd&s=f00d&v=1.16.1&c=lyra"),
        "https://m.example/rest/download?id=1&u=alice&t=***&s=***&v=1.16.1&c=lyra"
      )
      assert.strictEqual(redactUrl("http://x/rest/ping?p=enc:6869&apiKey=k"), "http://x/rest/ping?p=***&apiKey=***")
      assert.strictEqual(redactUrl("see https://bob:hunter2@m.example/app"), "see https://bob:***@m.example/app")
      assert.strictEqual(redactUrl("GET t=abc s=def"), "GET t=*** s=***")
    }))

  it.effect("a redactor scrubs the password wherever it appears, plain or URL-encoded", () =>
    Effect.sync(() => {
      const redact = makeRedactor([password])
      assert.strictEqual(redact(`bad password ${password} for alice`), "bad password *** for alice")
      assert.strictEqual(redact(`p=${encodeURIComponent(password)}`), "p=***")
    }))

  it.live("a server that echoes the password in its error message has it scrubbed", () =>
    live(Effect.gen(function*() {
      const { provider } = yield* providerFor(() => failed(0, `cannot log in with ${password}`))
      const error = yield* Effect.flip(provider.album("al-1"))
      assert.notInclude(error.message, password)
      assert.include(error.message, "***")
    })))

  it.effect("settings keep the password Redacted: it never shows in a printed setup", () =>
    Effect.sync(() => {
      const setup = settingsOf({ url: "https://m.example/", user, password: Redacted.make(password), apiKey: undefined })
      assert.strictEqual(setup._tag, "Configured")
      assert.notInclude(JSON.stringify(setup), password)
      assert.notInclude(String((setup as { settings: { auth: unknown } }).settings.auth), password)
    }))
})

describe("subsonic: URL inputs", () => {
  const parse = parseWebUrl("https://music.example.com")
  it.effect("Navidrome web URLs of the configured server", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(
        parse("https://music.example.com/app/#/album/3e1c0b/show"),
        new MediaRef({ provider: "subsonic", kind: "album", id: "3e1c0b" })
      )
      assert.strictEqual(parse("https://music.example.com/app/#/artist/ar-1/show")?.kind, "artist")
      assert.strictEqual(parse("https://music.example.com/app/#/playlist/pl%201/show")?.id, "pl 1")
      assert.strictEqual(parse("https://MUSIC.example.com/app/#/song/tr-9")?.kind, "track")
      assert.strictEqual(parse("https://music.example.com/app/#/album/al-4/show/")?.id, "al-4")
      assert.isUndefined(parse("https://other.example.com/app/#/album/1/show"), "another server")
      assert.isUndefined(parse("https://music.example.com/app/#/radio/1/show"))
      assert.isUndefined(parse("https://music.example.com/app/"))
      assert.isUndefined(parseWebUrl(undefined)("https://music.example.com/app/#/album/1/show"), "not configured")
    }))

  it.effect("a server under a path, and what people paste as the server URL", () =>
    Effect.sync(() => {
      const under = parseWebUrl("https://example.com/navidrome")
      assert.strictEqual(under("https://example.com/navidrome/app/#/album/x/show")?.id, "x")
      assert.isUndefined(under("https://example.com/app/#/album/x/show"))
      assert.strictEqual(normalizeBaseUrl("https://m.example/rest/"), "https://m.example")
      assert.strictEqual(normalizeBaseUrl("https://m.example/nd/app/#/album/1/show"), "https://m.example/nd")
    }))
})

describe("subsonic: configuration", () => {
  const withEnv = (env: Record<string, string>) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

  it.effect("from LYRA_SUBSONIC_* variables", () =>
    Effect.gen(function*() {
      const setup = yield* load.pipe(withEnv({
        LYRA_SUBSONIC_URL: "https://m.example/",
        LYRA_SUBSONIC_USER: "alice",
        LYRA_SUBSONIC_PASSWORD: password,
        HOME: "/nonexistent"
      }))
      assert.strictEqual(setup._tag, "Configured")
      if (setup._tag !== "Configured") return
      assert.strictEqual(setup.settings.baseUrl, "https://m.example")
      assert.strictEqual(setup.settings.auth._tag, "Password")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("from modules.subsonic in lyra's settings file, under the variables", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "lyra-subsonic-"))
      const file = join(dir, "settings.json")
      writeFileSync(file, JSON.stringify({ global: {}, modules: { subsonic: { url: "https://file.example", username: "bob", api_key: "k3y" } } }))
      const setup = yield* load.pipe(withEnv({ LYRA_CONFIG: file }))
      assert.strictEqual(setup._tag, "Configured")
      if (setup._tag !== "Configured") return
      assert.strictEqual(setup.settings.baseUrl, "https://file.example")
      assert.strictEqual(setup.settings.auth._tag, "ApiKey")
      const over = yield* load.pipe(withEnv({ LYRA_CONFIG: file, LYRA_SUBSONIC_URL: "https://env.example" }))
      assert.strictEqual(over._tag === "Configured" && over.settings.baseUrl, "https://env.example")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("nothing set: the provider is there, and says what to set when it is used", () =>
    Effect.gen(function*() {
      const setup = yield* load.pipe(withEnv({ HOME: "/nonexistent" }))
      assert.strictEqual(setup._tag, "Unconfigured")
      if (setup._tag !== "Unconfigured") return
      assert.match(setup.problem, /^subsonic: not configured: set LYRA_SUBSONIC_URL, LYRA_SUBSONIC_USER and LYRA_SUBSONIC_PASSWORD/)
      const provider = unconfigured(setup.problem)
      const ready = yield* Effect.either(provider.ready!)
      assert.isTrue(Either.isLeft(ready) && ready.left._tag === "UsageError" && ready.left.message === setup.problem)
      assert.isUndefined(provider.parseUrl("https://m.example/app/#/album/1/show"))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("each missing piece is named", () =>
    Effect.sync(() => {
      const problem = (given: Parameters<typeof settingsOf>[0]) => {
        const setup = settingsOf(given)
        return setup._tag === "Unconfigured" ? setup.problem : "configured"
      }
      const pw = Redacted.make("x")
      assert.strictEqual(problem({ url: undefined, user: "a", password: pw, apiKey: undefined }), "subsonic: no server URL: set LYRA_SUBSONIC_URL")
      assert.strictEqual(problem({ url: "https://m", user: undefined, password: pw, apiKey: undefined }), "subsonic: no user: set LYRA_SUBSONIC_USER")
      assert.strictEqual(problem({ url: "https://m", user: "a", password: undefined, apiKey: undefined }), "subsonic: no password: set LYRA_SUBSONIC_PASSWORD (or LYRA_SUBSONIC_API_KEY)")
      assert.match(problem({ url: "ftp://m", user: "a", password: pw, apiKey: undefined }), /must be an http\(s\) URL/)
      assert.match(problem({ url: "https://a:secret@m", user: "a", password: pw, apiKey: undefined }), /not in the URL/)
      assert.notInclude(problem({ url: "nota url t=abc", user: "a", password: pw, apiKey: undefined }), "abc")
    }))
})
