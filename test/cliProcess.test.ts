import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, sep } from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Schedule } from "effect"
import { parseFile } from "music-metadata"
import { SimCatalog } from "../src/layers/sim/SimCatalog.js"
import { makeContent, SimContentReader } from "../src/layers/sim/SimContent.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { assertBuilt, launcher as bin, repoRoot as root } from "./support/lyraProcess.js"

// Real processes: `node bin/lyra.js`, which loads the bundle `npm run build` makes.
beforeAll(assertBuilt)

/** A planned track: its title (every file name of it carries the title) and the bytes the sim serves for it. */
interface PlannedTrack {
  readonly id: string
  readonly title: string
  /** The FLAC preamble and the audio, as served; read on demand. */
  readonly served: () => { readonly bytes: Buffer; readonly headerLength: number }
}

/** Every track of `sim:artist:<id>` under the default seed. */
const plannedArtist = (artistId: string): ReadonlyArray<PlannedTrack> => {
  const { seed, shape } = SimProfile.defaultProfile
  const catalog = new SimCatalog(seed, shape)
  return catalog.artist(artistId)!.albumIds.flatMap((albumId) =>
    catalog.album(albumId)!.trackIds.map((trackId) => {
      const track = catalog.track(trackId)!
      const content = makeContent({
        seed,
        trackId,
        size: track.sizeBytes ?? 0,
        sampleRate: track.sampleRate ?? 44_100,
        bitDepth: track.bitDepth ?? 16,
        durationSeconds: track.durationSeconds ?? 0
      })
      return {
        id: trackId,
        title: track.title,
        served: () => ({
          bytes: Buffer.from(new SimContentReader(content, 0).read(content.size)),
          headerLength: content.header.length
        })
      }
    })
  )
}

const planned = plannedArtist("1")

/**
 * How a file's bytes relate to a track: "whole" when it is a FLAC whose last
 * bytes are all of the track's audio (tags and art may sit before the audio),
 * "prefix" when it is the start of what the sim serves (a transfer cut short).
 */
const relation = (file: Buffer, track: PlannedTrack): "whole" | "prefix" | undefined => {
  const { bytes, headerLength } = track.served()
  const audio = bytes.subarray(headerLength)
  if (
    file.length >= bytes.length && file.subarray(0, 4).toString("latin1") === "fLaC" &&
    file.subarray(file.length - audio.length).equals(audio)
  ) return "whole"
  return file.length <= bytes.length && bytes.subarray(0, file.length).equals(file) ? "prefix" : undefined
}

/** Every file of the library under `dir`, relative with `/`; lyra's own state under `.lyra/` is not library. */
const filesUnder = (dir: string): ReadonlyArray<string> =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((entry) => entry.split(sep).join("/"))
      .filter((entry) => entry !== ".lyra" && !entry.startsWith(".lyra/"))
      .filter((entry) => {
        try {
          return statSync(join(dir, entry)).isFile()
        } catch {
          return false // gone since the listing: a part just renamed
        }
      })
      .sort()
    : []

const finals = (dir: string) => filesUnder(dir).filter((file) => file.endsWith(".flac"))
const parts = (dir: string) => filesUnder(dir).filter((file) => file.endsWith(".flac.part"))

const nameOf = (file: string) => file.split("/").at(-1)!

/**
 * What an interrupted run may leave: final `.flac` files that each hold a whole
 * planned track named in the file's name, and `.part` files that each hold the
 * start of (or, being committed, all of) a planned track named in theirs. Files
 * are matched by title and content, so the folder layout is free; sidecars
 * (lyrics, covers) are not checked. Answers the ids of the tracks found whole.
 */
const assertConsistentLibrary = (dir: string): ReadonlyArray<string> => {
  const whole: Array<string> = []
  for (const file of filesUnder(dir).filter((file) => file.endsWith(".flac") || file.endsWith(".flac.part"))) {
    const bytes = readFileSync(join(dir, file))
    const named = planned.filter((track) => nameOf(file).includes(track.title))
    if (file.endsWith(".part")) {
      assert.isTrue(
        named.some((track) => relation(bytes, track) !== undefined),
        `${file} (${bytes.length} bytes) holds no planned track named in it`
      )
      continue
    }
    const track = named.find((track) => relation(bytes, track) === "whole")
    assert.isDefined(track, `${file} (${bytes.length} bytes) is partial or not a planned track`)
    whole.push(track!.id)
  }
  assert.strictEqual(new Set(whole).size, whole.length, "each track is in the library once")
  return whole
}

interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** performance.now() when the process exited. */
  readonly at: number
}

/** The environment without LYRA_SIM_*, so the sim profile is the one on the command line. */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LYRA_SIM_")))

/**
 * `lyra <args>` as a child process, killed (SIGKILL) when the test's scope
 * closes if it is still running, so no test can leave one behind.
 */
const spawnLyra = (args: ReadonlyArray<string>, cwd: string = root) =>
  Effect.gen(function*() {
    const ended = yield* Deferred.make<Ended>()
    let output = ""
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(process.execPath, [bin, ...args], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })),
      // Waits for the kill to land, so the folder is not removed under a running process.
      (child) =>
        child.exitCode === null && child.signalCode === null
          ? Effect.sync(() => child.kill("SIGKILL")).pipe(
            Effect.zipRight(Deferred.await(ended)),
            Effect.timeout("5 seconds"),
            Effect.ignore
          )
          : Effect.void
    )
    child.stdout?.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")))
    child.stderr?.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")))
    child.on("exit", (code, signal) => Deferred.unsafeDone(ended, Exit.succeed({ code, signal, at: performance.now() })))
    const signal = (name: NodeJS.Signals) =>
      Effect.sync(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill(name)
      })
    /** Waits for the exit, at most `within`; a process still running then fails the test. */
    const exit = (within: Duration.DurationInput) =>
      Deferred.await(ended).pipe(
        Effect.timeoutFail({
          duration: within,
          onTimeout: () => new Error(`lyra did not exit within ${Duration.format(within)}; output:\n${output}`)
        })
      )
    /** Polls `condition` every 25 ms until it holds, at most `within`; fails at once if lyra exits first. */
    const waitUntil = (what: string, condition: () => boolean, within: Duration.DurationInput) =>
      Effect.suspend(() =>
        Deferred.isDone(ended).pipe(
          Effect.flatMap((done) =>
            done
              ? Effect.fail(new Error(`lyra exited before ${what}; output:\n${output}`))
              : Effect.sync(condition)
          )
        )
      ).pipe(
        Effect.repeat({ schedule: Schedule.spaced("25 millis"), until: (held) => held }),
        Effect.timeoutFail({
          duration: within,
          onTimeout: () => new Error(`timed out waiting until ${what}; output:\n${output}`)
        })
      )
    return { signal, exit, waitUntil, output: () => output }
  })

/** A fresh library folder, removed when the test ends. */
const tempLibrary = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "lyra-process-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => join(dir, "library")))

/** Slow enough (a track takes seconds) that a signal always lands mid-transfer. */
const slowJob = (out: string) => ["download", "sim:artist:1", "--out", out, "--sim", "bandwidth=200KB/s"]

/** Wall-clock milliseconds: the 2 s bound is about real time, so no TestClock here. */
const now = Effect.sync(() => performance.now())

describe("lyra as a process: interruption", () => {
  it.scopedLive("SIGINT mid-download exits 130 within 2 s, with no partial final file", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const lyra = yield* spawnLyra(slowJob(out))
      // Some tracks finished and some in flight: the signal meets both kinds of file.
      yield* lyra.waitUntil("a track is done and others are in flight", () => finals(out).length > 0 && parts(out).length > 0, "30 seconds")
      const sent = yield* now
      yield* lyra.signal("SIGINT")
      const ended = yield* lyra.exit("10 seconds")
      assert.strictEqual(ended.code, 130, lyra.output())
      assert.isBelow(ended.at - sent, 2000, "exit within 2 s of SIGINT")
      assert.include(lyra.output(), "Interrupted", "the partial summary was printed")
      assert.isBelow(finals(out).length, planned.length, "interrupted before the end")
      assertConsistentLibrary(out)
    }), { timeout: 60_000 })

  it.scopedLive("a second SIGINT right after the first exits at once with 130", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const lyra = yield* spawnLyra(slowJob(out))
      yield* lyra.waitUntil("transfers are in flight", () => parts(out).length > 0, "30 seconds")
      const sent = yield* now
      yield* lyra.signal("SIGINT")
      // A short gap, so the kernel delivers two signals rather than merging them.
      yield* Effect.sleep("20 millis")
      yield* lyra.signal("SIGINT")
      const ended = yield* lyra.exit("10 seconds")
      assert.strictEqual(ended.code, 130, lyra.output())
      assert.isBelow(ended.at - sent, 1000, "exit at once")
      assertConsistentLibrary(out)
    }), { timeout: 60_000 })

  it.scopedLive("SIGTERM behaves like SIGINT", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const lyra = yield* spawnLyra(slowJob(out))
      yield* lyra.waitUntil("transfers are in flight", () => parts(out).length > 0, "30 seconds")
      const sent = yield* now
      yield* lyra.signal("SIGTERM")
      const ended = yield* lyra.exit("10 seconds")
      assert.strictEqual(ended.code, 130, lyra.output())
      assert.isBelow(ended.at - sent, 2000, "exit within 2 s of SIGTERM")
      assert.include(lyra.output(), "Interrupted", "the partial summary was printed")
      assertConsistentLibrary(out)
    }), { timeout: 60_000 })

  it.scopedLive("status names the lyra running a job, and calls it interrupted once that lyra is killed", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const lyra = yield* spawnLyra(slowJob(out))
      yield* lyra.waitUntil("transfers are in flight", () => parts(out).length > 0, "30 seconds")
      const status = Effect.gen(function*() {
        const run = yield* spawnLyra(["status", "--out", out])
        assert.strictEqual((yield* run.exit("10 seconds")).code, 0, run.output())
        return run.output()
      })
      const live = yield* status
      assert.match(live.split("\n")[0]!, /^job 1: sim:artist:1 \(running: pid \d+ on .+\)$/)
      assert.notInclude(live, "lyra resume", "a job that runs is not to be resumed")
      yield* lyra.signal("SIGKILL")
      yield* lyra.exit("10 seconds")
      const gone = yield* status
      assert.strictEqual(gone.split("\n")[0], "job 1: sim:artist:1 (interrupted)")
      assert.include(gone, `continue it: lyra resume 1 --out ${out}`)
    }), { timeout: 60_000 })

  it.scopedLive("a run to the end exits 0 and leaves exactly the planned library", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const lyra = yield* spawnLyra([
        "download",
        "sim:artist:1",
        "--out",
        out,
        "--quiet",
        "--sim",
        "latency=1ms",
        "--sim",
        "bandwidth=unlimited",
        "--sim",
        "error-rate=0"
      ])
      const ended = yield* lyra.exit("30 seconds")
      assert.strictEqual(ended.code, 0, lyra.output())
      assert.deepStrictEqual(parts(out), [])
      const whole = assertConsistentLibrary(out)
      assert.deepStrictEqual([...whole].sort(), planned.map((t) => t.id).sort())
    }), { timeout: 60_000 })
})

describe("lyra as a process: quality tiers", () => {
  it.scopedLive("--quality low files the sim's tracks as tagged 128 kbps MP3s; lossless as FLAC", () =>
    Effect.gen(function*() {
      const fast = ["--quiet", "--sim", "latency=1ms", "--sim", "bandwidth=unlimited", "--sim", "error-rate=0"]
      const out = yield* tempLibrary
      const low = yield* spawnLyra(["download", "sim:album:11", "--out", out, "--quality", "low", ...fast])
      assert.strictEqual((yield* low.exit("30 seconds")).code, 0, low.output())
      const mp3s = filesUnder(out).filter((file) => file.endsWith(".mp3"))
      assert.strictEqual(mp3s.length, 10)
      assert.isFalse(filesUnder(out).some((file) => file.endsWith(".flac")))
      const { common, format } = yield* Effect.promise(() => parseFile(join(out, mp3s[0]!)))
      assert.strictEqual(format.codec, "MPEG 1 Layer 3")
      assert.strictEqual(format.bitrate, 128_000)
      assert.strictEqual(format.sampleRate, 44_100)
      assert.include(nameOf(mp3s[0]!), common.title!)
      assert.strictEqual(common.album, "Thunder of Saints")

      const other = yield* tempLibrary
      const lossless = yield* spawnLyra(["download", "sim:track:1101", "--out", other, "--quality", "lossless", ...fast])
      assert.strictEqual((yield* lossless.exit("30 seconds")).code, 0, lossless.output())
      const [flac] = filesUnder(other).filter((file) => file.endsWith(".flac"))
      assert.strictEqual((yield* Effect.promise(() => parseFile(join(other, flac!)))).format.container, "FLAC")
    }), { timeout: 60_000 })
})

/**
 * A quick job as a child whose stdout the test reads itself: about 80 KB of --json events, more
 * than a pipe holds, in a few seconds; `sets` adds to its --sim profile.
 */
const spawnQuickJob = (out: string, ...sets: ReadonlyArray<string>) =>
  spawn(
    process.execPath,
    [
      bin,
      ...["download", "sim:artist:3", "--out", out, "--json"],
      ...["albums=6", "tracks=20", "latency=0ms", "bandwidth=unlimited", "rate-limit=off", "error-rate=0", ...sets]
        .flatMap((set) => ["--sim", set])
    ],
    { cwd: root, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] }
  )

describe("lyra as a process: a slow reader", () => {
  it.scopedLive("gets every --json line, even when the job ends in failure (exit 1)", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const ended = yield* Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>(
        (resume) => {
          const child = spawnQuickJob(out, "fail=3101")
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
          // The reader stalls until the job is over (its summary is on stderr), and a while after.
          child.stdout.pause()
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8")
            if (stderr.includes("peak memory")) setTimeout(() => child.stdout.resume(), 500)
          })
          child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
          return Effect.sync(() => child.kill("SIGKILL"))
        }
      ).pipe(Effect.timeout("60 seconds"))
      assert.strictEqual(ended.code, 1, ended.stderr)
      const lines = ended.stdout.trimEnd().split("\n")
      assert.isAbove(ended.stdout.length, 70_000)
      assert.match(lines.at(-1)!, /^\{"_tag":"JobFinished",.*"failed":1\b/)
      const tracksFinished = lines.filter((line) => line.startsWith('{"_tag":"ItemFinished"') && line.includes('"kind":"track"'))
      assert.strictEqual(tracksFinished.length, 111)
    }), { timeout: 90_000 })
})

describe("lyra as a process: a reader that stopped reading", () => {
  it.scopedLive("does not hold lyra after the job: the first Ctrl-C then exits 130 at once", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const ended = yield* Effect.async<{ readonly code: number | null; readonly millis: number; readonly stderr: string }>(
        (resume) => {
          const child = spawnQuickJob(out)
          let stderr = ""
          let signalled = 0
          // The reader never reads: the job's events stay in lyra.
          child.stdout.pause()
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8")
            if (signalled === 0 && stderr.includes("peak memory")) {
              signalled = performance.now()
              child.kill("SIGINT")
            }
          })
          child.on("exit", (code) => resume(Effect.succeed({ code, millis: performance.now() - signalled, stderr })))
          return Effect.sync(() => child.kill("SIGKILL"))
        }
      ).pipe(Effect.timeout("60 seconds"))
      assert.strictEqual(ended.code, 130, ended.stderr)
      assert.isBelow(ended.millis, 2000)
    }), { timeout: 90_000 })
})

describe("lyra as a process: its reader goes away", () => {
  it.scopedLive("a closed stdout (lyra … | head -1) ends the run as Ctrl-C does: no stack trace, no partial final file", () =>
    Effect.gen(function*() {
      const out = yield* tempLibrary
      const ended = yield* Effect.async<{ readonly code: number | null; readonly stderr: string }>((resume) => {
        const child = spawn(process.execPath, [bin, ...slowJob(out), "--json"], {
          cwd: root,
          env: cleanEnv(),
          stdio: ["ignore", "pipe", "pipe"]
        })
        let stderr = ""
        child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
        // The reader takes the first line and leaves, as `head -1` does.
        child.stdout.once("data", () => child.stdout.destroy())
        child.on("exit", (code) => resume(Effect.succeed({ code, stderr })))
        return Effect.sync(() => child.kill("SIGKILL"))
      }).pipe(Effect.timeout("30 seconds"))
      assert.strictEqual(ended.code, 130, ended.stderr)
      assert.notMatch(ended.stderr, /^\s+at /m, "no stack trace")
      assert.notInclude(ended.stderr, "EPIPE")
      assertConsistentLibrary(out)
    }), { timeout: 60_000 })
})

describe("lyra as a process: simulate", () => {
  // The launcher runs `lyra simulate` in a second node (with a bigger young generation) and waits for it.
  it.scopedLive("runs in a node of its own, whose output and exit status are lyra's", () =>
    Effect.gen(function*() {
      const simulated = yield* spawnLyra(["simulate", "sim:artist:1", "--json"])
      assert.strictEqual((yield* simulated.exit("30 seconds")).code, 0, simulated.output())
      const report = JSON.parse(simulated.output()) as { readonly makespanMillis: number }
      assert.isAbove(report.makespanMillis, 0)

      const refused = yield* spawnLyra(["simulate", "--sim", "bogus=1"])
      assert.strictEqual((yield* refused.exit("30 seconds")).code, 2, refused.output())
      assert.match(refused.output(), /^lyra: --sim: unknown key "bogus"/)
      assert.strictEqual(refused.output().trimEnd().split("\n").length, 1, "one line, no stack trace")
    }), { timeout: 60_000 })
})

describe("lyra as a process: commands that only read", () => {
  it.scopedLive("providers, search and status leave nothing in the working directory", () =>
    Effect.gen(function*() {
      const cwd = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "lyra-cwd-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      for (const args of [["providers"], ["search", "sim", "artist", "okafor"], ["status"]]) {
        const ran = yield* spawnLyra(args, cwd)
        assert.isNotNull((yield* ran.exit("30 seconds")).code, `lyra ${args.join(" ")} did not finish`)
        assert.deepStrictEqual(readdirSync(cwd), [], `lyra ${args.join(" ")} wrote into its working directory`)
      }
    }), { timeout: 90_000 })
})
