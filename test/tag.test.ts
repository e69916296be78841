import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { build } from "esbuild"
import { Effect, Either, Layer } from "effect"
import { parseFile } from "music-metadata"
import type { CoverArt } from "../src/domain/Artwork.js"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import { defaultSettings } from "../src/domain/Settings.js"
import type { TrackTags } from "../src/domain/TrackTags.js"
import * as EngineLayer from "../src/layers/EngineLayer.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import * as ProgressRecorder from "../src/layers/ProgressRecorder.js"
import { albumCover } from "../src/layers/sim/SimArt.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import * as SimProvider from "../src/layers/sim/SimProvider.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import * as StorageLive from "../src/layers/StorageLive.js"
import * as TaggerLive from "../src/layers/TaggerLive.js"
import { download } from "../src/programs/download.js"
import { Tagger } from "../src/services/Tagger.js"

/**
 * Tags written by TaggerLive into real files, read back with music-metadata.
 * The FLAC files are made here with sox and flac (Debian packages), MP3 with
 * lame, Opus with opusenc and M4A with ffmpeg.
 */

const has = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

let root = ""
let workerScript = ""

beforeAll(async () => {
  root = mkdtempSync(NodePath.join(tmpdir(), "lyra-tag-"))
  // The worker as the build ships it, next to node_modules so that node-taglib-sharp resolves.
  const cache = fileURLToPath(new URL("../node_modules/.cache/lyra/", import.meta.url))
  mkdirSync(cache, { recursive: true })
  workerScript = NodePath.join(cache, "TagWorker.test.mjs")
  await build({
    entryPoints: [fileURLToPath(new URL("../src/layers/TagWorker.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node-taglib-sharp"],
    outfile: workerScript,
    logLevel: "warning"
  })
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Two seconds of a sine, as WAV with sox, then FLAC with flac. */
const makeFlac = (name: string): string => {
  const wav = NodePath.join(root, `${name}.wav`)
  const flac = NodePath.join(root, `${name}.flac`)
  execFileSync("sox", ["-n", "-r", "44100", "-c", "2", "-b", "16", wav, "synth", "0.5", "sine", "440"])
  execFileSync("flac", ["--silent", "--force", "-o", flac, wav])
  return flac
}

const makeFrom = (name: string, tool: string, args: (wav: string, out: string) => ReadonlyArray<string>, ext: string) => {
  const wav = NodePath.join(root, `${name}.wav`)
  const out = NodePath.join(root, `${name}.${ext}`)
  execFileSync("sox", ["-n", "-r", "48000", "-c", "2", "-b", "16", wav, "synth", "0.5", "sine", "440"])
  execFileSync(tool, args(wav, out))
  return out
}

const tags: TrackTags = {
  title: "Señor 🎵 Title",
  artists: ["First Artist", "Second Artist"],
  album: "The Album",
  albumArtist: "First Artist",
  trackNumber: 3,
  totalTracks: 12,
  discNumber: 2,
  totalDiscs: 2,
  date: "2001-03-04",
  isrc: "USABC0100003",
  upc: "123456789012",
  genres: ["Rock", "Pop"],
  copyright: "℗ 2001 Label",
  composer: "A Composer",
  label: "The Label",
  lyrics: "line one\nline two"
}

const cover: CoverArt = { bytes: albumCover(42, "11", 64), mimeType: "image/jpeg" }

/** A Tagger over the library at `dir`, on worker threads or (without a script) on this one. */
const taggerAt = (dir: string, script?: string) =>
  TaggerLive.layer({ threads: 2, workerScript: script }).pipe(
    Layer.provide(StorageLive.layer(dir)),
    Layer.provide(NodeContext.layer)
  )

const tagInto = (file: string, script?: string) =>
  Effect.gen(function*() {
    const tagger = yield* Tagger
    return yield* Effect.either(tagger.write(NodePath.basename(file), tags, cover))
  }).pipe(Effect.provide(taggerAt(NodePath.dirname(file), script)))

const assertTags = async (file: string, options: { readonly date: boolean }) => {
  const { common } = await parseFile(file)
  assert.strictEqual(common.title, tags.title)
  assert.deepStrictEqual(common.artists, ["First Artist", "Second Artist"])
  assert.strictEqual(common.album, "The Album")
  assert.strictEqual(common.albumartist, "First Artist")
  assert.deepStrictEqual(common.track, { no: 3, of: 12 })
  assert.deepStrictEqual(common.disk, { no: 2, of: 2 })
  assert.strictEqual(common.year, 2001)
  if (options.date) assert.strictEqual(common.date, "2001-03-04")
  assert.deepStrictEqual(common.isrc, ["USABC0100003"])
  assert.strictEqual(common.barcode, "123456789012")
  assert.deepStrictEqual(common.genre, ["Rock", "Pop"])
  assert.strictEqual(common.copyright, "℗ 2001 Label")
  assert.deepStrictEqual(common.composer, ["A Composer"])
  assert.strictEqual(common.lyrics?.[0]?.text, "line one\nline two")
  assert.strictEqual(common.picture?.[0]?.format, "image/jpeg")
  assert.deepStrictEqual(new Uint8Array(common.picture![0]!.data), cover.bytes)
}

describe("TaggerLive writes tags that music-metadata reads back", () => {
  it.live("FLAC made with sox and flac, on a worker thread", () =>
    Effect.gen(function*() {
      const file = makeFlac("worker")
      const result = yield* tagInto(file, workerScript)
      assert.isTrue(Either.isRight(result), String(Either.isLeft(result) && result.left.message))
      const tagged = Either.getOrThrow(result)!
      assert.strictEqual(tagged.bytes, readFileSync(file).length)
      yield* Effect.promise(() => assertTags(file, { date: true }))
      assert.isFalse(existsSync(`${file}.tagging`))
    }))

  it.live("FLAC, on this thread when there is no compiled worker", () =>
    Effect.gen(function*() {
      const file = makeFlac("inthread")
      assert.isTrue(Either.isRight(yield* tagInto(file)))
      yield* Effect.promise(() => assertTags(file, { date: true }))
    }))

  it.live.skipIf(!has("lame"))("MP3 (ID3v2.4) made with lame", () =>
    Effect.gen(function*() {
      const file = makeFrom("song", "lame", (wav, out) => ["--quiet", wav, out], "mp3")
      assert.isTrue(Either.isRight(yield* tagInto(file, workerScript)))
      yield* Effect.promise(() => assertTags(file, { date: true }))
    }))

  it.live.skipIf(!has("opusenc"))("Ogg Opus made with opusenc", () =>
    Effect.gen(function*() {
      const file = makeFrom("voice", "opusenc", (wav, out) => ["--quiet", wav, out], "opus")
      assert.isTrue(Either.isRight(yield* tagInto(file, workerScript)))
      yield* Effect.promise(() => assertTags(file, { date: true }))
    }))

  // ffmpeg writes the M4A container, with AAC (lossy services) or ALAC (lossless ones) inside.
  for (const codec of ["aac", "alac"]) {
    it.live.skipIf(!has("ffmpeg"))(`M4A (${codec.toUpperCase()}) made with ffmpeg`, () =>
      Effect.gen(function*() {
        const file = makeFrom(`tune-${codec}`, "ffmpeg", (wav, out) => ["-v", "error", "-y", "-i", wav, "-c:a", codec, out], "m4a")
        const result = yield* tagInto(file, workerScript)
        assert.isTrue(Either.isRight(result), String(Either.isLeft(result) && result.left.message))
        yield* Effect.promise(() => assertTags(file, { date: true }))
        const { common, format } = yield* Effect.promise(() => parseFile(file))
        assert.strictEqual(format.codec, codec === "aac" ? "MPEG-4/AAC" : "ALAC")
        // A player that shows one artist string shows both.
        assert.strictEqual(common.artist, "First Artist; Second Artist")
      }))
  }

  it.live("hostile metadata is written as readable tags: controls dropped, marks, emoji and long titles kept", () =>
    Effect.gen(function*() {
      const long = "t".repeat(1000)
      const hostile: TrackTags = {
        title: `a\u0000b\u0007c \u202Egnp.exe 🎸 ${long}`,
        artists: ["..", "\u200Fמלך\u200E", "x\u0000y"],
        album: "../../up",
        genres: ["Ro\u0000ck"],
        lyrics: "one\r\ntwo\tthree\u0000"
      }
      const made = [
        makeFlac("hostile"),
        ...(has("lame") ? [makeFrom("hostile-mp3", "lame", (wav, out) => ["--quiet", wav, out], "mp3")] : []),
        ...(has("opusenc") ? [makeFrom("hostile-opus", "opusenc", (wav, out) => ["--quiet", wav, out], "opus")] : []),
        ...(has("ffmpeg") ? [makeFrom("hostile-m4a", "ffmpeg", (wav, out) => ["-v", "error", "-y", "-i", wav, out], "m4a")] : [])
      ]
      for (const file of made) {
        const result = yield* Effect.flatMap(Tagger, (t) => Effect.either(t.write(NodePath.basename(file), hostile, undefined))).pipe(
          Effect.provide(taggerAt(NodePath.dirname(file), workerScript))
        )
        assert.isTrue(Either.isRight(result), file)
        const { common } = yield* Effect.promise(() => parseFile(file))
        assert.strictEqual(common.title, `abc \u202Egnp.exe 🎸 ${long}`, file)
        assert.deepStrictEqual(common.artists, ["..", "\u200Fמלך\u200E", "xy"], file)
        assert.strictEqual(common.album, "../../up", file)
        assert.deepStrictEqual(common.genre, ["Rock"], file)
        assert.strictEqual(common.lyrics?.[0]?.text, "one\r\ntwo\tthree", file)
      }
    }))

  it.live("a file that cannot be tagged is kept as it was, with the reason", () =>
    Effect.gen(function*() {
      const broken = NodePath.join(root, "broken.flac")
      const garbage = new Uint8Array(4096).map((_, i) => (i * 7) % 251)
      writeFileSync(broken, garbage)
      const result = yield* tagInto(broken, workerScript)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "TagError")
        assert.match(result.left.message, /^cannot tag broken\.flac: \S/)
        assert.notInclude(result.left.message, "\n")
      }
      assert.deepStrictEqual(new Uint8Array(readFileSync(broken)), garbage)
      assert.isFalse(existsSync(`${broken}.tagging`))

      const text = NodePath.join(root, "notes.txt")
      writeFileSync(text, "hello")
      const refused = yield* tagInto(text, workerScript)
      assert.isTrue(Either.isLeft(refused) && /does not tag \.txt/.test(refused.left.message))
      assert.strictEqual(readFileSync(text, "utf8"), "hello")

      const outside = yield* Effect.either(Effect.flatMap(Tagger, (t) => t.write("../escape.flac", tags, undefined))).pipe(
        Effect.provide(taggerAt(NodePath.join(root, "lib"), workerScript))
      )
      assert.isTrue(Either.isLeft(outside) && /leaves the library/.test(outside.left.message))
    }))
})

describe("a download, tagged", () => {
  it.live("every track of a sim album on disk carries its tags, its cover and its lyrics", () =>
    Effect.gen(function*() {
      const library = NodePath.join(root, "library")
      const storage = StorageLive.layer(library).pipe(Layer.provide(NodeContext.layer))
      const sim = SimProvider.registryLayer(SimProfile.exact({ latency: { _tag: "Fixed", millis: 1 }, bandwidth: Infinity }))
      const engine = EngineLayer.make({
        providers: sim,
        storage,
        progress: ProgressRecorder.layer,
        transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici))
      }).pipe(
        Layer.provideMerge(Layer.mergeAll(sim, storage)),
        (engine) => Layer.provideMerge(TaggerLive.layer({ threads: 2, workerScript }), engine)
      )
      const { catalog, report, seed } = yield* Effect.gen(function*() {
        const report = yield* download(["sim:album:11"], {
          ...defaultJobSettings,
          library: { ...defaultSettings, saveExternal: true, mainResolution: 600, externalResolution: 1200 }
        })
        const server = yield* SimServer
        return { report, catalog: server.catalog, seed: server.profile.seed }
      }).pipe(Effect.provide(engine))
      assert.strictEqual(report.done, 10)
      const album = catalog.album("11")!
      const folder = NodePath.join(library, `${album.title}${album.explicit === true ? " [E]" : ""}`)
      const files = readdirSync(folder).sort()
      assert.include(files, "cover.jpg")
      const first = catalog.track("1101")!
      const flac = NodePath.join(folder, files.find((name) => name.startsWith("01. ") && name.endsWith(".flac"))!)
      const { common } = yield* Effect.promise(() => parseFile(flac, { duration: false }))
      assert.strictEqual(common.title, first.title)
      assert.strictEqual(common.album, album.title)
      assert.deepStrictEqual(common.track, { no: 1, of: 10 })
      assert.strictEqual(common.date, first.releaseDate)
      assert.strictEqual(common.barcode, first.upc)
      // The embedded cover at main_resolution, cover.jpg at external_resolution.
      assert.deepStrictEqual(new Uint8Array(common.picture![0]!.data), albumCover(seed, "11", 600))
      assert.deepStrictEqual(new Uint8Array(readFileSync(NodePath.join(folder, "cover.jpg"))), albumCover(seed, "11", 1200))
      const lrc = files.filter((name) => name.endsWith(".lrc"))
      assert.isAbove(lrc.length, 0)
      for (const name of lrc) {
        const tagged = yield* Effect.promise(() => parseFile(NodePath.join(folder, name.replace(/\.lrc$/, ".flac"))))
        assert.isString(tagged.common.lyrics?.[0]?.text)
      }
      assert.isFalse(files.some((name) => name.endsWith(".part") || name.endsWith(".tagging")))
    }), { timeout: 60_000 })
})
