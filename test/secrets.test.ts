import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join, relative, sep } from "node:path"
import { HttpServerResponse } from "@effect/platform"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { redactText } from "../src/domain/Redact.js"
import type { Finished } from "./support/lyraProcess.js"
import { assertBuilt, runLyra, spawnLyra, stackTrace } from "./support/lyraProcess.js"
import { tempFolder } from "./support/osFaults.js"
import type { Handler, SeenRequest } from "./subsonicServer.js"
import { failed, ok, startServer } from "./subsonicServer.js"

// Real jobs, as real processes, against a real Subsonic server, succeeding and
// failing in every way at hand; then everything each run produced is searched
// for the credentials: output, log file, NDJSON events, the state store (with
// its WAL), the library, error messages.

beforeAll(assertBuilt)

const user = "mallory"
/** Distinctive, with characters that URL encoding changes, so an encoded copy is searched for too. */
const password = "Zq7!pw+SECRET/4242 ok"
const apiKey = "ak_9f3SECRETKEY_77c1"

const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex")

/** Whether a request proves `password` (salted token) or `apiKey`. */
const authorized = (params: URLSearchParams, expected: { readonly password: string; readonly apiKey: string }) => {
  if (params.has("p")) return false
  if (params.has("apiKey")) return params.get("apiKey") === expected.apiKey && !params.has("u")
  const salt = params.get("s") ?? ""
  return params.get("u") === user && salt.length >= 6 && params.get("t") === md5(expected.password + salt)
}

const wav = (seed: number, size: number) => Uint8Array.from({ length: size }, (_, i) => (i * seed + 31) % 256)
const songs = [1, 2, 3].map((n) => ({ id: `tr-${n}`, title: `Song ${n}`, bytes: wav(n + 2, 20_000 + n * 1000) }))

/** How the server behaves for one run. */
type Mode = "ok" | "broken" | "stall"

/**
 * A Subsonic server for one album. `broken`: downloads but the first answer
 * 500 with a page that echoes the request's URL (credentials and all), and
 * lyrics and covers fail echoing the query too, as a careless server or proxy
 * does (so the one track that arrives carries those reasons). `stall`:
 * downloads send a little, then nothing.
 */
const secretServer = (state: { mode: Mode; password: string; apiKey: string }): Handler => (request) => {
  const echo = `${request.path}?${request.params.toString()}`
  if (!authorized(request.params, state)) {
    return request.params.has("apiKey") ? failed(44, `invalid API key for ${echo}`) : failed(40, `Wrong username or password (${echo})`)
  }
  const id = request.params.get("id") ?? ""
  switch (request.method) {
    case "ping":
      return ok()
    case "getOpenSubsonicExtensions":
      return ok({ openSubsonicExtensions: [{ name: "songLyrics", versions: [1] }] })
    case "getAlbum":
      return ok({
        album: {
          id: "al-1",
          name: "Secret Album",
          artist: "Secret Artist",
          coverArt: "al-1",
          song: songs.map((song, i) => ({
            id: song.id,
            title: song.title,
            album: "Secret Album",
            albumId: "al-1",
            artist: "Secret Artist",
            track: i + 1,
            size: song.bytes.length,
            suffix: "wav",
            contentType: "audio/wav"
          }))
        }
      })
    case "getLyricsBySongId":
      return state.mode === "broken"
        ? failed(0, `lyrics backend failed on ${echo}`)
        : ok({ lyricsList: { structuredLyrics: [{ synced: true, line: [{ start: 0, value: "la la" }] }] } })
    case "getCoverArt":
      return state.mode === "broken"
        ? HttpServerResponse.text(`<html>cover failed for ${echo}</html>`, { status: 500 })
        : HttpServerResponse.uint8Array(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]), {
          contentType: "image/jpeg"
        })
    case "download": {
      const song = songs.find((s) => s.id === id)
      if (song === undefined) return failed(70, `no song ${id} (${echo})`)
      if (state.mode === "broken" && song.id !== "tr-1") {
        return HttpServerResponse.text(`<html>internal error serving ${echo}</html>`, { status: 500 })
      }
      if (state.mode === "stall") {
        return HttpServerResponse.stream(Stream.concat(Stream.make(song.bytes.subarray(0, 1000)), Stream.never), {
          contentType: "audio/wav",
          headers: { "content-length": String(song.bytes.length) }
        })
      }
      const start = Number(/^bytes=(\d+)-$/.exec(request.headers["range"] ?? "")?.[1] ?? 0)
      return HttpServerResponse.uint8Array(song.bytes.subarray(start), {
        status: start > 0 ? 206 : 200,
        contentType: "audio/wav",
        headers: start > 0 ? { "content-range": `bytes ${start}-${song.bytes.length - 1}/${song.bytes.length}` } : {}
      })
    }
    default:
      return failed(0, `unexpected ${echo}`)
  }
}

/** A port nothing listens on: one the OS just gave out and took back. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const probe = createServer()
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 9))
    })
  })
)

/** A file's bytes; none if it went away since it was listed (SQLite's journal comes and goes while lyra runs). */
const bytesOf = (path: string): Buffer | undefined => {
  try {
    return statSync(path).isFile() ? readFileSync(path) : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error
  }
}

/** Every file under `dir`, as [relative path, bytes]. */
const everyFile = (dir: string): ReadonlyArray<readonly [string, Buffer]> =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((entry) => {
      const bytes = bytesOf(join(dir, entry))
      return bytes === undefined ? [] : [[entry, bytes] as const]
    })
    : []

/** One thing a run produced, to search. */
interface Evidence {
  readonly what: string
  readonly bytes: Buffer
}

const fromRun = (name: string, run: Finished): ReadonlyArray<Evidence> => [
  { what: `${name}: stdout`, bytes: Buffer.from(run.stdout) },
  { what: `${name}: stderr`, bytes: Buffer.from(run.stderr) }
]

const fromFolder = (name: string, dir: string): ReadonlyArray<Evidence> =>
  everyFile(dir).map(([path, bytes]) => ({ what: `${name}: ${path}`, bytes }))

/**
 * The secret values that must appear nowhere: the password (as it is, URL-
 * and form-encoded, hex as in the legacy `p=enc:`), its md5, the API key, and every
 * salted token and salt the server was sent (a token and its salt replay).
 */
const secretsFrom = (seen: ReadonlyArray<SeenRequest>) => {
  const values = new Set([
    password,
    encodeURIComponent(password),
    new URLSearchParams({ p: password }).toString().slice(2),
    Buffer.from(password).toString("hex"),
    md5(password),
    apiKey,
    encodeURIComponent(apiKey)
  ])
  for (const request of seen) {
    for (const name of ["t", "s"]) {
      const value = request.params.get(name)
      if (value !== null && value.length >= 6) values.add(value)
    }
  }
  return [...values]
}

/** A credential parameter with a value in a URL or a query: `t=…`, `s=…`, `p=…`, `apiKey=…` (redacted is fine). */
const credentialParam = /[?&;](t|s|p|apiKey)=(?!\*\*\*|\[redacted\]|&|$)/i

const assertNoSecret = (evidence: ReadonlyArray<Evidence>, seen: ReadonlyArray<SeenRequest>) => {
  const secrets = secretsFrom(seen)
  assert.isAbove(seen.length, 0, "the server was used")
  for (const { bytes, what } of evidence) {
    for (const secret of secrets) {
      // Searched as UTF-8 and as UTF-16 (SQLite may keep text either way).
      for (const encoded of [Buffer.from(secret, "utf8"), Buffer.from(secret, "utf16le")]) {
        assert.strictEqual(bytes.indexOf(encoded), -1, `${what} holds a secret (${secret.slice(0, 3)}…)`)
      }
    }
    const text = bytes.toString("latin1")
    const param = credentialParam.exec(text)
    assert.isNull(param, `${what} shows a credential parameter: …${text.slice(Math.max(0, (param?.index ?? 0) - 60), (param?.index ?? 0) + 40)}…`)
  }
}

/** The environment lyra runs with: its own home, and the server's settings. */
const envFor = (dir: string, base: string, auth: { readonly password: string } | { readonly apiKey: string }) => {
  const home = join(dir, "home")
  mkdirSync(home, { recursive: true })
  return {
    HOME: home,
    LYRA_SUBSONIC_URL: base,
    ...("apiKey" in auth ? { LYRA_SUBSONIC_API_KEY: auth.apiKey } : { LYRA_SUBSONIC_USER: user, LYRA_SUBSONIC_PASSWORD: auth.password })
  }
}

const noStack = (run: Finished, name: string) => {
  assert.notMatch(run.stdout, stackTrace, `${name}: ${run.stdout}`)
  assert.notMatch(run.stderr, stackTrace, `${name}: ${run.stderr}`)
}

describe("secrets never leak", () => {
  it("a signed Subsonic URL in a log line keeps its token and salt hidden", () => {
    const url = "http://music.test/rest/download?id=tr-1&u=me&t=26719a1196d2a940705a59634eb18eab&s=c19b2d&v=1.16.1"
    assert.strictEqual(
      redactText(`GET ${url} failed`),
      "GET http://music.test/rest/download?id=tr-1&u=me&t=[redacted]&s=[redacted]&v=1.16.1 failed"
    )
    assert.strictEqual(redactText("p=enc:70617373&x=1"), "p=[redacted]&x=1", "a query without its URL too")
    // Outside a query, a one-letter name is just a word.
    assert.strictEqual(redactText("t=3 s=4"), "t=3 s=4")
  })

  it.scopedLive("password auth: good, failing, interrupted and resumed runs, with --log-file, --json and plain", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder("lyra-secrets-")
      const state = { mode: "ok" as Mode, password, apiKey }
      const server = yield* startServer(secretServer(state))
      const env = envFor(dir, server.base, { password })
      const evidence: Array<Evidence> = []
      const album = "subsonic:album:al-1"
      const log = join(dir, "lyra.log")
      const run = (name: string, args: ReadonlyArray<string>, expected: number, runEnv = env) =>
        Effect.tap(runLyra(args, { env: runEnv }, "90 seconds"), (finished) => {
          evidence.push(...fromRun(name, finished))
          noStack(finished, name)
          assert.strictEqual(finished.code, expected, `${name}: ${finished.stdout}\n${finished.stderr}`)
        })

      // A whole album, as NDJSON and with a log; then the same plain; then status.
      const good = join(dir, "good")
      const json = yield* run("json", ["download", album, "--out", good, "--json", "--log-file", log], 0)
      assert.isAbove(json.stdout.split("\n").filter((line) => line.startsWith("{")).length, 5, "NDJSON events")
      yield* run("plain --force", ["download", album, "--out", good, "--plain", "--force", "--log-file", log], 0)
      yield* run("status", ["status", "--out", good], 0)
      yield* run("status --json", ["status", "--json", "--out", good], 0)

      // Downloads answer 500 with the URL echoed; lyrics and covers fail echoing the query.
      state.mode = "broken"
      const broken = join(dir, "broken")
      yield* run("500s", ["download", album, "--out", broken, "--plain", "--retries", "1", "--log-file", log], 1)
      yield* run("500s --json", ["download", album, "--out", broken, "--json", "--retries", "1", "--force"], 1)
      yield* run("status after 500s", ["status", "--json", "--out", broken], 0)

      // The wrong password: refused at the ping, before the job.
      state.mode = "ok"
      const wrong = yield* run(
        "wrong password",
        ["download", album, "--out", join(dir, "wrong"), "--log-file", log],
        2,
        envFor(dir, server.base, { password: `${password}x` })
      )
      assert.include(wrong.stderr, "wrong username or password")

      // Nobody listening.
      const port = yield* closedPort
      yield* run(
        "unreachable",
        ["download", album, "--out", join(dir, "unreachable"), "--plain", "--retries", "1", "--log-file", log],
        1,
        envFor(dir, `http://127.0.0.1:${port}`, { password })
      )

      // Interrupted mid-transfer (SIGINT), the state store copied while it runs, then resumed.
      state.mode = "stall"
      const stalled = join(dir, "stalled")
      const lyra = yield* spawnLyra(["download", album, "--out", stalled, "--plain", "--log-file", log], { env })
      yield* lyra.waitUntil("a transfer is in flight", () =>
        everyFile(stalled).some(([path, bytes]) => path.endsWith(".part") && bytes.length > 0))
      const snapshot = join(dir, "snapshot")
      mkdirSync(snapshot)
      for (const name of readdirSync(join(stalled, ".lyra"))) {
        copyFileSync(join(stalled, ".lyra", name), join(snapshot, name))
      }
      yield* lyra.signal("SIGINT")
      const interrupted = yield* lyra.finished("30 seconds")
      evidence.push(...fromRun("interrupted", interrupted))
      noStack(interrupted, "interrupted")
      assert.strictEqual(interrupted.code, 130, lyra.output())
      state.mode = "ok"
      yield* run("resume", ["resume", "--out", stalled, "--plain", "--log-file", log], 0)

      evidence.push({ what: "log file", bytes: readFileSync(log) })
      for (const out of [good, broken, stalled, join(dir, "wrong"), join(dir, "unreachable")]) {
        evidence.push(...fromFolder(relative(dir, out), out))
      }
      evidence.push(...fromFolder("state store while running", snapshot))
      assert.isTrue(evidence.some((e) => e.what.endsWith(`.lyra${sep}state.db`)), "the state store was searched")
      assert.isTrue(evidence.some((e) => e.what.includes("state store while running") && e.what.endsWith("-wal")), "and a WAL")
      const logText = readFileSync(log, "utf8")
      assert.include(logText, '"operation":"transfer"', "the log has the transfers, with their URLs")
      assertNoSecret(evidence, server.seen)
    }), 300_000)

  it.scopedLive("API key auth: good, refused and failing runs", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder("lyra-secrets-key-")
      const state = { mode: "ok" as Mode, password, apiKey }
      const server = yield* startServer(secretServer(state))
      const env = envFor(dir, server.base, { apiKey })
      const evidence: Array<Evidence> = []
      const log = join(dir, "lyra.log")
      const run = (name: string, args: ReadonlyArray<string>, expected: number, runEnv = env) =>
        Effect.tap(runLyra(args, { env: runEnv }, "90 seconds"), (finished) => {
          evidence.push(...fromRun(name, finished))
          noStack(finished, name)
          assert.strictEqual(finished.code, expected, `${name}: ${finished.stdout}\n${finished.stderr}`)
        })
      const out = join(dir, "library")
      yield* run("json", ["download", "subsonic:album:al-1", "--out", out, "--json", "--log-file", log], 0)
      state.mode = "broken"
      yield* run("500s", ["download", "subsonic:album:al-1", "--out", out, "--plain", "--force", "--retries", "1", "--log-file", log], 1)
      state.mode = "ok"
      const refused = yield* run(
        "wrong key",
        ["download", "subsonic:album:al-1", "--out", join(dir, "refused"), "--log-file", log],
        2,
        envFor(dir, server.base, { apiKey: `${apiKey}x` })
      )
      assert.include(refused.stderr, "invalid API key")
      evidence.push({ what: "log file", bytes: readFileSync(log) })
      evidence.push(...fromFolder("library", out))
      assert.isTrue(server.seen.some((r) => r.params.get("apiKey") === apiKey), "the key was used")
      assertNoSecret(evidence, server.seen)
    }), 300_000)

  it.scopedLive("credentials in the settings file: config show, providers and a download show none", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder("lyra-secrets-file-")
      const server = yield* startServer(secretServer({ mode: "ok", password, apiKey }))
      const home = join(dir, "home")
      mkdirSync(join(home, ".config", "lyra"), { recursive: true })
      writeFileSync(
        join(home, ".config", "lyra", "settings.json"),
        // OrpheusDL's form, module sections and all.
        JSON.stringify({ global: {}, modules: { subsonic: { url: server.base, username: user, password } } })
      )
      const env = { HOME: home }
      const evidence: Array<Evidence> = []
      const out = join(dir, "library")
      for (const [name, args] of [
        ["config show", ["config", "show"]],
        ["providers", ["providers"]],
        ["download", ["download", "subsonic:album:al-1", "--out", out, "--plain", "--log-file", join(dir, "lyra.log")]]
      ] as const) {
        const finished = yield* runLyra(args, { env }, "90 seconds")
        assert.strictEqual(finished.code, 0, `${name}: ${finished.stdout}\n${finished.stderr}`)
        noStack(finished, name)
        evidence.push(...fromRun(name, finished))
      }
      evidence.push({ what: "log file", bytes: readFileSync(join(dir, "lyra.log")) }, ...fromFolder("library", out))
      assertNoSecret(evidence, server.seen)
    }), 120_000)
})

// -- hostile metadata, end to end -----------------------------------------------------------------

/** A name no other file has, so an escape is found wherever it lands. */
const marker = `lyra-escape-${process.pid}`

/**
 * An album whose every name tries to climb out of the library: the album, the
 * artists, the titles, the file suffix, the cover id; and downloads whose
 * Content-Disposition names a file outside.
 */
const hostileServer = (): Handler => {
  const titles = [
    `../../../${marker}-a`,
    `/tmp/${marker}-b`,
    `..\\..\\${marker}-c`,
    `${marker}-d/../../..`,
    `.`,
    `..`
  ]
  const bytes = titles.map((_, i) => wav(i + 5, 5000 + i))
  return (request) => {
    const id = request.params.get("id") ?? ""
    switch (request.method) {
      case "ping":
        return ok()
      case "getOpenSubsonicExtensions":
        return ok({ openSubsonicExtensions: [{ name: "songLyrics", versions: [1] }] })
      case "getAlbum":
        return ok({
          album: {
            id: "al-x",
            name: `../../${marker}-album`,
            artist: "../..",
            coverArt: `../../${marker}-cover`,
            song: titles.map((title, i) => ({
              id: `../${i}`,
              title,
              album: `../../${marker}-album`,
              albumId: "al-x",
              artist: i % 2 === 0 ? "../../.." : `/etc/${marker}`,
              displayAlbumArtist: "..",
              track: i + 1,
              discNumber: i === 0 ? 1 : undefined,
              size: bytes[i]!.length,
              // A suffix is a file extension to lyra: a hostile one is a path.
              suffix: i % 2 === 0 ? `../../${marker}-suffix` : "wav",
              contentType: "audio/wav"
            }))
          }
        })
      case "getLyricsBySongId":
        return ok({ lyricsList: { structuredLyrics: [{ synced: true, line: [{ start: 0, value: `../../${marker}` }] }] } })
      case "getCoverArt":
        return HttpServerResponse.uint8Array(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), {
          contentType: "image/jpeg",
          headers: { "content-disposition": `attachment; filename="../../../${marker}-cover.jpg"` }
        })
      case "download": {
        const index = Number(id.replace("../", ""))
        const body = bytes[index]
        if (body === undefined) return failed(70, "not found")
        return HttpServerResponse.uint8Array(body, {
          contentType: "audio/wav",
          headers: { "content-disposition": `attachment; filename="../../../${marker}-${index}.wav"` }
        })
      }
      default:
        return failed(0, "unexpected")
    }
  }
}

/** Entries named with the marker directly in `dir` (not below). */
const markedIn = (dir: string) => existsSync(dir) ? readdirSync(dir).filter((entry) => entry.includes(marker)) : []

describe("hostile metadata through the CLI and a real server", () => {
  it.scopedLive("no name a server gives can put a file outside the library", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder("lyra-hostile-")
      // Deep enough that every "../" a name could climb stays inside the test's own folder.
      const out = join(dir, "a", "b", "c", "d", "library")
      const server = yield* startServer(hostileServer())
      const run = yield* runLyra(
        ["download", "subsonic:album:al-x", "--out", out, "--plain", "--set", "save_external=true"],
        { env: envFor(dir, server.base, { password: "unused" }) },
        "90 seconds"
      )
      noStack(run, "hostile")
      assert.strictEqual(run.code, 0, `${run.stdout}\n${run.stderr}`)
      assert.include(run.stdout, "tracks: 6 done")

      // Everything lyra wrote is inside the library, and real (no link leads out).
      const root = realpathSync(out)
      const written = readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((entry) => statSync(join(dir, entry)).isFile() && !entry.startsWith(`home${sep}`))
      assert.isAbove(written.length, 6)
      for (const entry of written) {
        const real = realpathSync(join(dir, entry))
        assert.isTrue(real.startsWith(`${root}${sep}`), `${entry} is outside the library`)
      }
      const audio = written.filter((entry) => !entry.includes(`${sep}.lyra${sep}`) && !/\.(lrc|jpg)$/.test(entry))
      assert.strictEqual(audio.length, 6, audio.join("\n"))
      // Nothing reached the folders a climb would: above the library, the temp folder, the root.
      for (const above of [dirname(out), join(dir, "a"), dir, tmpdir(), "/", "/tmp", "/etc"]) {
        assert.deepStrictEqual(markedIn(above), [], `${above} holds an escaped file`)
      }
    }), 120_000)
})
