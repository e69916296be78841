import { createHash } from "node:crypto"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync
} from "node:fs"
import { dirname, join, sep } from "node:path"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Option, Stream } from "effect"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { ProgressEvent } from "../src/domain/ProgressEvent.js"
import * as EngineLayer from "../src/layers/EngineLayer.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import * as JobStoreSqlite from "../src/layers/JobStoreSqlite.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as ProgressRecorderLayer from "../src/layers/ProgressRecorder.js"
import { SimCatalog } from "../src/layers/sim/SimCatalog.js"
import { makeContent, sha256Hex } from "../src/layers/sim/SimContent.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import * as SimProvider from "../src/layers/sim/SimProvider.js"
import * as StorageLive from "../src/layers/StorageLive.js"
import { download } from "../src/programs/download.js"
import { JobStore } from "../src/services/JobStore.js"
import { Storage } from "../src/services/Storage.js"
import type { StorageError } from "../src/services/StorageError.js"
import type { Finished } from "./support/lyraProcess.js"
import { assertBuilt, runLyra, runLyraSteps, stackTrace } from "./support/lyraProcess.js"
import {
  mountLines,
  mountTmpfs,
  privateMountsPrefix,
  reasonFor,
  refuseWrites,
  tempFolder,
  unprivilegedPrefix
} from "./support/osFaults.js"

// Real OS faults (see test/support/osFaults.ts for how each is made as root, and
// the fallbacks where mounting is not allowed): under lyra's live Storage and
// SQLite state in-process, then under the bundled CLI as a real process.

// -- the sim album every test downloads -----------------------------------------------------------

const profile = SimProfile.exact({ latency: { _tag: "Fixed", millis: 1 }, bandwidth: Infinity })
const catalog = new SimCatalog(profile.seed, profile.shape)
const album = "11"
const albumTracks = catalog.album(album)!.trackIds
const albumBytes = albumTracks.reduce((sum, id) => sum + catalog.track(id)!.sizeBytes!, 0)

/** The sha256 of a track's bytes as the sim serves them (the library holds them as they are: no tagger here). */
const expectedSha = (id: string) => {
  const track = catalog.track(id)!
  return sha256Hex(makeContent({
    seed: profile.seed,
    trackId: id,
    size: track.sizeBytes ?? 0,
    sampleRate: track.sampleRate ?? 44_100,
    bitDepth: track.bitDepth ?? 16,
    durationSeconds: track.durationSeconds ?? 0
  }))
}
const shaOfFile = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex")

/** Every file under `dir` (relative, with `/`), lyra's own `.lyra/` left out. */
const filesUnder = (dir: string): ReadonlyArray<string> =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((entry) => entry.split(sep).join("/"))
      .filter((entry) => entry !== ".lyra" && !entry.startsWith(".lyra/") && statSync(join(dir, entry)).isFile())
      .sort()
    : []
const finalTracks = (dir: string) => filesUnder(dir).filter((file) => file.endsWith(".flac"))

// -- the engine in-process: StorageLive, JobStoreSqlite, the sim -----------------------------------

type StorageService = Storage["Type"]

/** A Storage that runs `before` ahead of each write of the live one: where a test injects its fault. */
const wrapWrites = (before: (path: string, live: StorageService) => Effect.Effect<void>) => (live: StorageService) =>
  Storage.of({
    ...live,
    write: (path, body, options) => Effect.zipRight(before(path, live), live.write(path, body, options))
  })

/** A Storage whose writes run `onFirstChunk` once the first chunk of a matching track is on its way to disk. */
const hookFirstChunk = (matches: (path: string) => boolean, onFirstChunk: (absolutePart: string) => Effect.Effect<void>) =>
(live: StorageService) =>
  Storage.of({
    ...live,
    write: (path, body, options) => {
      if (!matches(path)) return live.write(path, body, options)
      let first = true
      // The part is open by the time the body is pulled: the hook meets a write in progress.
      const hooked = Stream.mapEffect(body, (chunk) => {
        if (!first) return Effect.succeed(chunk)
        first = false
        return Effect.as(onFirstChunk(join(live.root, `${path}.part`)), chunk)
      })
      return live.write(path, hooked, options)
    }
  })

const engineOn = (library: string, stateFile: string, wrap?: (live: StorageService) => StorageService) => {
  const live = StorageLive.layer(library).pipe(Layer.provide(NodeContext.layer))
  const storage = wrap === undefined ? live : Layer.effect(Storage, Effect.map(Storage, wrap)).pipe(Layer.provide(live))
  return EngineLayer.make({
    providers: SimProvider.registryLayer(profile),
    storage,
    progress: ProgressRecorderLayer.layer,
    transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)),
    store: JobStoreSqlite.layer({ filename: stateFile }),
    retry: { retries: 2, baseDelay: Duration.millis(5), maxDelay: Duration.millis(20) }
  }).pipe(Layer.provideMerge(ProgressRecorderLayer.layer))
}

type TrackFinished = Extract<ProgressEvent, { _tag: "ItemFinished" }>

/**
 * Downloads the album (or resumes the last job) on the real disk, then reads
 * back what the state store says: the job's track items and the archive.
 */
const runAlbum = (
  library: string,
  stateFile: string,
  options: { readonly wrap?: (live: StorageService) => StorageService; readonly resume?: boolean } = {}
) =>
  Effect.gen(function*() {
    const store = yield* JobStore
    const resume = options.resume === true ? { resume: yield* store.job() } : {}
    const report = yield* download([`sim:album:${album}`], defaultJobSettings, resume)
    const events = yield* (yield* ProgressRecorder).events
    const tracks = events.filter((e): e is TrackFinished => e._tag === "ItemFinished" && e.kind === "track")
    const items = (yield* store.items(report.jobId)).filter((item) => item.kind === "track")
    const archived = yield* Effect.forEach(albumTracks, (id) => store.archived("sim", id))
    return { report, tracks, items, archived: archived.filter(Option.isSome).map((entry) => entry.value) }
  }).pipe(Effect.provide(engineOn(library, stateFile, options.wrap)))

/** Nothing that failed to reach the disk is done: not in the events, not in the store, not in the archive. */
const assertNothingDone = (
  run: Effect.Effect.Success<ReturnType<typeof runAlbum>>,
  library: string,
  reason: RegExp
) => {
  assert.strictEqual(run.report.done, 0)
  assert.strictEqual(run.tracks.length, albumTracks.length, "every track ends")
  for (const track of run.tracks) {
    assert.strictEqual(track.state, "failed")
    assert.match(track.reason ?? "", reason)
    assert.notInclude(track.reason ?? "", "\n", "one line")
  }
  assert.strictEqual(run.items.length, albumTracks.length)
  for (const item of run.items) {
    assert.strictEqual(item.state, "failed", `${item.label} is not done in the state store`)
    assert.match(item.error ?? "", reason)
  }
  assert.deepStrictEqual(run.archived, [], "nothing reached the archive")
  assert.deepStrictEqual(finalTracks(library), [], "no final file")
}

/** A library folder and, beside it (on the ordinary disk), its state store. */
const folders = Effect.map(tempFolder("lyra-disk-"), (dir) => ({
  dir,
  library: join(dir, "library"),
  state: join(dir, "state", "state.db")
}))

const diskFull = /^cannot write .+\.flac: disk full$/

/**
 * Makes the library a 1 MiB tmpfs, far less than the album; where mounting
 * is refused, points each track's `.part` at /dev/full, whose writes the
 * kernel answers with the same ENOSPC.
 */
const fullDisk = (library: string) =>
  Effect.map(mountTmpfs(library, { size: "1m" }), (mounted) => ({
    mounted,
    wrap: mounted ? undefined : wrapWrites((path) =>
      Effect.sync(() => {
        const part = join(library, `${path}.part`)
        mkdirSync(dirname(part), { recursive: true })
        if (!existsSync(part)) symlinkSync("/dev/full", part)
      })
    )
  }))

describe("disk faults under the engine (live Storage, SQLite state, real file system)", () => {
  it.scopedLive("a full disk fails each track with 'disk full' and marks none done", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      assert.isAbove(albumBytes, 4 * 1024 * 1024, "the album is far more than the disk holds")
      const disk = yield* fullDisk(library)
      const run = yield* runAlbum(library, state, disk.wrap === undefined ? {} : { wrap: disk.wrap })
      assertNothingDone(run, library, diskFull)
      assert.isTrue(run.report.failed >= albumTracks.length)
    }), 60_000)

  it.scopedLive("a read-only library fails each track with 'read-only file system'", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      mkdirSync(library, { recursive: true })
      const denial = yield* refuseWrites(library, "read-only mount")
      const run = yield* runAlbum(library, state)
      assertNothingDone(run, library, new RegExp(`^cannot write .+\\.flac: ${reasonFor(denial)}$`))
    }), 60_000)

  it.scopedLive("a library that refuses writes fails each track with 'permission denied'", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      mkdirSync(library, { recursive: true })
      const denial = yield* refuseWrites(library, "permission")
      const run = yield* runAlbum(library, state)
      assertNothingDone(run, library, new RegExp(`^cannot write .+\\.flac: ${reasonFor(denial)}$`))
    }), 60_000)

  it.scopedLive("a .part deleted mid-transfer fails that track, clearly; the next run completes it", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      const victim = catalog.track(albumTracks[2]!)!.title
      const first = yield* runAlbum(library, state, {
        wrap: hookFirstChunk((path) => path.includes(victim), (part) => Effect.sync(() => rmSync(part)))
      })
      const failed = first.tracks.filter((t) => t.state === "failed")
      assert.strictEqual(failed.length, 1, JSON.stringify(first.tracks))
      assert.match(failed[0]!.reason ?? "", /^cannot write .+\.flac: its \.part file was deleted while being written$/)
      assert.strictEqual(first.report.done, albumTracks.length - 1)
      assert.strictEqual(first.items.filter((item) => item.state === "done").length, albumTracks.length - 1)
      assert.isFalse(finalTracks(library).some((file) => file.includes(victim)), "no final file for it")
      assert.isFalse(first.archived.some((entry) => entry.path.includes(victim)), "not archived")

      const second = yield* runAlbum(library, state)
      assert.strictEqual(second.report.done, 1)
      assert.strictEqual(second.report.skipped, albumTracks.length - 1)
      for (const id of albumTracks) {
        const file = finalTracks(library).find((f) => f.includes(catalog.track(id)!.title))
        assert.isDefined(file, id)
        assert.strictEqual(shaOfFile(join(library, file!)), expectedSha(id), `${file} is whole`)
      }
    }), 60_000)

  it.scopedLive("a .part replaced mid-transfer is never committed as the track; the next run completes it", () =>
    Effect.gen(function*() {
      const { dir, library, state } = yield* folders
      const victim = catalog.track(albumTracks[4]!)!.title
      const first = yield* runAlbum(library, state, {
        wrap: hookFirstChunk((path) => path.includes(victim), (part) =>
          Effect.sync(() => {
            // Another program puts its own file at the name, atomically.
            writeFileSync(join(dir, "stranger"), "not the track")
            renameSync(join(dir, "stranger"), part)
          }))
      })
      const failed = first.tracks.filter((t) => t.state === "failed")
      assert.strictEqual(failed.length, 1, JSON.stringify(first.tracks))
      assert.match(failed[0]!.reason ?? "", /^cannot write .+\.flac: its \.part file was replaced while being written$/)
      assert.isFalse(finalTracks(library).some((file) => file.includes(victim)), "the stranger's file is not the track")

      const second = yield* runAlbum(library, state, { resume: true })
      assert.strictEqual(second.report.failed, 0, JSON.stringify(second.tracks))
      const file = finalTracks(library).find((f) => f.includes(victim))!
      assert.strictEqual(shaOfFile(join(library, file)), expectedSha(albumTracks[4]!))
      assert.deepStrictEqual(filesUnder(library).filter((f) => f.endsWith(".part")), [])
    }), 60_000)

  it.scopedLive("an interrupted job's .part overwritten before the resume: the resume still ends whole", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      const victim = catalog.track(albumTracks[0]!)!.title
      const midway = yield* Deferred.make<string>()
      // The first run stops for good once the victim's first chunk is on its way.
      const first = yield* Effect.fork(runAlbum(library, state, {
        wrap: hookFirstChunk((path) => path.includes(victim), (part) =>
          Effect.zipRight(Deferred.succeed(midway, part), Effect.never))
      }))
      const part = yield* Deferred.await(midway)
      yield* Fiber.interrupt(first)
      assert.isTrue(existsSync(part), "the interrupted transfer left its part")
      // Garbage of the track's own size: only the checksum can tell.
      writeFileSync(part, Buffer.alloc(catalog.track(albumTracks[0]!)!.sizeBytes!, 7))

      const second = yield* runAlbum(library, state, { resume: true })
      assert.strictEqual(second.report.failed, 0, JSON.stringify(second.tracks))
      assert.strictEqual(second.report.done + second.report.skipped, albumTracks.length)
      for (const id of albumTracks) {
        const file = finalTracks(library).find((f) => f.includes(catalog.track(id)!.title))!
        assert.strictEqual(shaOfFile(join(library, file)), expectedSha(id), `${file} is whole`)
      }
    }), 60_000)

  it.scopedLive("final files deleted, cut short or replaced by a folder before a rerun: fetched again, or failed clearly", () =>
    Effect.gen(function*() {
      const { library, state } = yield* folders
      const first = yield* runAlbum(library, state)
      assert.strictEqual(first.report.done, albumTracks.length)
      const pathOf = (id: string) => join(library, finalTracks(library).find((f) => f.includes(catalog.track(id)!.title))!)
      const [deleted, shortened, blocked] = [albumTracks[1]!, albumTracks[3]!, albumTracks[5]!]
      const blockedPath = pathOf(blocked)
      rmSync(pathOf(deleted))
      truncateSync(pathOf(shortened), 1000)
      rmSync(blockedPath)
      mkdirSync(blockedPath)

      const second = yield* runAlbum(library, state)
      assert.strictEqual(second.report.done, 2, JSON.stringify(second.tracks))
      assert.strictEqual(second.report.skipped, albumTracks.length - 3)
      const failed = second.tracks.filter((t) => t.state === "failed")
      assert.strictEqual(failed.length, 1)
      assert.match(failed[0]!.reason ?? "", /^cannot write .+\.flac: a folder is in the way$/)
      assert.strictEqual(second.items.filter((item) => item.state === "failed").length, 1)
      for (const id of [deleted, shortened]) assert.strictEqual(shaOfFile(pathOf(id)), expectedSha(id))
    }), 60_000)
})

// -- Storage itself, on real faults ----------------------------------------------------------------

const storageOn = (root: string) => Effect.provide(Storage, StorageLive.layer(root).pipe(Layer.provide(NodeContext.layer)))

const failureOf = <A>(effect: Effect.Effect<A, StorageError>) =>
  Effect.flip(effect).pipe(Effect.orElse(() => Effect.dieMessage("expected a StorageError")))

const bytes = (size: number) => Stream.make(new Uint8Array(size).fill(1))

describe("StorageLive on real faults", () => {
  it.scopedLive("disk full mid-write: one line, and nothing to commit under the final name", () =>
    Effect.gen(function*() {
      const { library } = yield* folders
      const disk = yield* fullDisk(library)
      const storage = disk.wrap === undefined ? yield* storageOn(library) : disk.wrap(yield* storageOn(library))
      // Many chunks, so the disk fills in the middle of the stream.
      const body = Stream.range(1, 64).pipe(Stream.map(() => new Uint8Array(64 * 1024).fill(3)))
      const error = yield* failureOf(storage.write("Album/big.flac", body, { append: false }))
      assert.strictEqual(error.message, "cannot write Album/big.flac: disk full")
      assert.isUndefined((yield* storage.inspect("Album/big.flac").pipe(Effect.orElseSucceed(() => ({ finalBytes: undefined })))).finalBytes)
      assert.isFalse(existsSync(join(library, "Album", "big.flac")))
    }))

  it.scopedLive("a read-only file system: opening in a folder and making one both say so", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      // Two libraries: one whose album folder exists (the open fails), one that is empty (the mkdir fails).
      const withAlbum = join(dir, "with-album")
      mkdirSync(join(withAlbum, "Album"), { recursive: true })
      const empty = join(dir, "empty")
      mkdirSync(empty)
      const first = yield* refuseWrites(join(withAlbum, "Album"), "read-only mount")
      const second = yield* refuseWrites(empty, "read-only mount")
      const inAlbum = yield* failureOf((yield* storageOn(withAlbum)).write("Album/a.flac", bytes(10), { append: false }))
      assert.match(inAlbum.message, new RegExp(`^cannot write Album/a\\.flac: ${reasonFor(first)}$`))
      const newFolder = yield* failureOf((yield* storageOn(empty)).write("New/Deeper/b.flac", bytes(10), { append: false }))
      assert.match(newFolder.message, new RegExp(`^cannot write New/Deeper/b\\.flac: ${reasonFor(second)}$`))
    }))

  it.scopedLive("a folder that refuses new files: permission denied", () =>
    Effect.gen(function*() {
      const { library } = yield* folders
      mkdirSync(join(library, "Album"), { recursive: true })
      const denial = yield* refuseWrites(join(library, "Album"), "permission")
      const storage = yield* storageOn(library)
      const error = yield* failureOf(storage.write("Album/a.flac", bytes(10), { append: false }))
      assert.match(error.message, new RegExp(`^cannot write Album/a\\.flac: ${reasonFor(denial)}$`))
      const below = yield* failureOf(storage.write("Album/Disc 1/a.flac", bytes(10), { append: false }))
      assert.match(below.message, new RegExp(`^cannot write Album/Disc 1/a\\.flac: ${reasonFor(denial)}$`))
    }))
})

// -- the CLI, as a real process --------------------------------------------------------------------

beforeAll(assertBuilt)

const quickSim = ["--sim", "latency=1ms", "--sim", "bandwidth=unlimited", "--sim", "error-rate=0"]
const download11 = (out: string, ...extra: ReadonlyArray<string>) =>
  ["download", `sim:album:${album}`, "--out", out, "--plain", ...quickSim, ...extra]

/** The environment of a CLI run: a home of its own, so no settings file of the machine's is read. */
const envIn = (dir: string) => {
  const home = join(dir, "home")
  mkdirSync(home, { recursive: true })
  chmodSync(home, 0o777)
  return { HOME: home }
}

const assertNoStack = (run: Finished) => {
  assert.notMatch(run.stdout, stackTrace, run.stdout)
  assert.notMatch(run.stderr, stackTrace, run.stderr)
}

interface StatusJson {
  readonly counts: { readonly track: Record<string, number>; readonly album: Record<string, number> }
  readonly failures: ReadonlyArray<{ readonly kind: string; readonly reason: string | null }>
}

/**
 * A private mount namespace for the CLI (see test/support/osFaults.ts): its
 * mounts vanish with it. A machine with neither mounts nor user namespaces
 * cannot make a full disk, which these tests need: they say so and fail.
 */
const namespace = () => {
  const prefix = privateMountsPrefix()
  if (prefix === undefined) {
    throw new Error("a full disk needs a tmpfs: run as root with CAP_SYS_ADMIN, or allow unprivileged user namespaces")
  }
  return prefix
}

/** The track lines of a plain run that say a track failed. */
const trackFailures = (run: Finished) => run.stdout.split("\n").filter((line) => line.includes("track failed:"))

/** A read-only `out`: a read-only bind mount in a private namespace, or (without one) a folder refusing writes. */
const readOnlyRun = (dir: string, out: string, extra: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    mkdirSync(out)
    const env = envIn(dir)
    const prefix = privateMountsPrefix()
    if (prefix !== undefined) {
      const steps = yield* runLyraSteps(
        { setup: mountLines([{ _tag: "read-only", dir: out }]), runs: [download11(out, ...extra)], list: out },
        { prefix, env }
      )
      return { run: steps.runs[0]!, reason: "read-only file system", files: steps.files }
    }
    const denial = yield* refuseWrites(out, "permission")
    // What is there already (the fallback of last resort makes `out` a link to a sysfs folder), so as to see nothing is added.
    const before = readdirSync(out)
    const run = yield* runLyra(download11(out, ...extra), { env })
    const after = readdirSync(out)
    return { run, reason: reasonFor(denial), files: after.filter((entry) => !before.includes(entry)) }
  })

describe("disk faults through the CLI", () => {
  it.scopedLive("a read-only output folder: exit 1, one line naming it, no stack, nothing written", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      const out = join(dir, "library")
      const { files, reason, run } = yield* readOnlyRun(dir, out, [])
      assert.strictEqual(run.code, 1, `${run.stdout}\n${run.stderr}`)
      assert.match(run.stderr, new RegExp(`^lyra: cannot create ${escape(join(out, ".lyra"))}: ${reason}\n$`))
      assertNoStack(run)
      assert.deepStrictEqual(files, [])
    }), 60_000)

  it.scopedLive("a read-only output folder with --no-state: every track fails with the reason, exit 1", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      const out = join(dir, "library")
      const { files, reason, run } = yield* readOnlyRun(dir, out, ["--no-state"])
      assert.strictEqual(run.code, 1, `${run.stdout}\n${run.stderr}`)
      assertNoStack(run)
      assert.strictEqual(run.stderr, "")
      const failures = trackFailures(run)
      assert.strictEqual(failures.length, albumTracks.length, run.stdout)
      for (const line of failures) assert.match(line, new RegExp(`: cannot write [^:]+\\.flac: ${reason}$`))
      assert.include(run.stdout, `tracks: 0 done, 0 skipped, ${albumTracks.length} failed`)
      assert.deepStrictEqual(files, [])
    }), 60_000)

  it.scopedLive("permission denied (run as an unprivileged user): exit 1, one line naming it, no stack", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      const out = join(dir, "library")
      mkdirSync(out)
      // Root ignores modes, so lyra runs as `nobody`; without setpriv, or not as root, the folder refuses writes itself.
      const prefix = unprivilegedPrefix()
      const reason = prefix === undefined ? reasonFor(yield* refuseWrites(out, "permission")) : "permission denied"
      const before = readdirSync(out)
      const run = yield* runLyra(download11(out), { env: envIn(dir), prefix: prefix ?? [] })
      assert.strictEqual(run.code, 1, `${run.stdout}\n${run.stderr}`)
      assert.match(run.stderr, new RegExp(`^lyra: cannot create ${escape(join(out, ".lyra"))}: ${reason}\n$`))
      assertNoStack(run)
      assert.deepStrictEqual(readdirSync(out), before, "nothing written")
    }), 60_000)

  it.scopedLive("a full library disk: each track fails 'disk full', none is done in `lyra status`, no final file", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      const out = join(dir, "library")
      // A 1 MiB library; the state store on a disk of its own, so it can record the failures.
      const { files, runs } = yield* runLyraSteps({
        setup: mountLines([
          { _tag: "tmpfs", dir: out, size: "1m" },
          { _tag: "tmpfs", dir: join(out, ".lyra"), size: "32m" }
        ]),
        runs: [download11(out), ["status", "--json", "--out", out]],
        list: out
      }, { prefix: namespace(), env: envIn(dir) })
      const [run, status] = [runs[0]!, runs[1]!]
      assert.strictEqual(run.code, 1, `${run.stdout}\n${run.stderr}`)
      assertNoStack(run)
      assert.strictEqual(run.stderr, "", "the job itself did not fail: its tracks did")
      const failures = trackFailures(run)
      assert.strictEqual(failures.length, albumTracks.length, run.stdout)
      for (const line of failures) assert.match(line, /: cannot write [^:]+\.flac: disk full$/)

      assert.strictEqual(status.code, 0, status.stderr)
      const stored = JSON.parse(status.stdout) as StatusJson
      assert.strictEqual(stored.counts.track["done"], 0)
      assert.strictEqual(stored.counts.track["failed"], albumTracks.length)
      assert.strictEqual(stored.counts.album["done"], 0)
      const trackReasons = stored.failures.filter((f) => f.kind === "track")
      assert.strictEqual(trackReasons.length, albumTracks.length)
      for (const failure of trackReasons) assert.match(failure.reason ?? "", /^cannot write [^:]+\.flac: disk full$/)
      assert.deepStrictEqual(files.filter((file) => file.endsWith(".flac")), [], "no final file")
    }), 120_000)

  it.scopedLive("a disk full under the state store as well: one line naming it, exit 1, no track done", () =>
    Effect.gen(function*() {
      const { dir } = yield* folders
      const out = join(dir, "library")
      const { files, runs } = yield* runLyraSteps({
        setup: mountLines([{ _tag: "tmpfs", dir: out, size: "1m" }]),
        runs: [download11(out), ["status", "--json", "--out", out]],
        list: out
      }, { prefix: namespace(), env: envIn(dir) })
      const [run, status] = [runs[0]!, runs[1]!]
      assert.strictEqual(run.code, 1, `${run.stdout}\n${run.stderr}`)
      assertNoStack(run)
      // Which write meets the full disk first varies: a track's (its line says so) or the store's (the job ends).
      assert.match(`${run.stdout}\n${run.stderr}`, /disk full|database or disk is full/)
      for (const line of run.stderr.split("\n").filter((l) => l !== "")) {
        assert.match(line, /^lyra: .*(disk full|disk is full)/, "stderr says what is wrong, in one line")
      }
      assert.notMatch(run.stdout, /track done:/)
      assert.deepStrictEqual(files.filter((file) => file.endsWith(".flac")), [], "no final file")
      // The store may hold nothing readable (the disk filled before it could write); if it reads, nothing is done.
      assertNoStack(status)
      if (status.code === 0) assert.strictEqual((JSON.parse(status.stdout) as StatusJson).counts.track["done"], 0)
    }), 120_000)
})

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
