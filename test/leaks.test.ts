import { existsSync, readdirSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { HttpServerResponse } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Stream, Supervisor } from "effect"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import * as EngineLayer from "../src/layers/EngineLayer.js"
import * as HttpClientLive from "../src/layers/HttpClientLive.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import * as JobStoreSqlite from "../src/layers/JobStoreSqlite.js"
import * as ProgressRecorder from "../src/layers/ProgressRecorder.js"
import * as StorageLive from "../src/layers/StorageLive.js"
import { download } from "../src/programs/download.js"
import { tempFolder } from "./support/osFaults.js"
import type { Handler } from "./subsonicServer.js"
import { failed, handshake, ok, startServer, subsonicRegistry } from "./subsonicServer.js"

// After any job, whether it succeeds, fails or is interrupted, nothing of it
// stays behind: no fiber, no socket, no file handle, no timer. The live layers
// run in this process (undici's pool against a real Subsonic server, the live
// Storage on a temp folder, the SQLite store), so what they hold is this
// process's, and /proc/self/fd and process.getActiveResourcesInfo() show it.

const tracks = [1, 2, 3, 4].map((n) => ({ id: `tr-${n}`, bytes: Uint8Array.from({ length: 40_000 + n }, (_, i) => (i * n) % 256) }))

type Mode = "ok" | "broken" | "stall"

/** One album of four tracks; `broken` answers 500 to downloads; `stall` sends a little of each, then nothing. */
const leakServer = (state: { mode: Mode; stalled: Deferred.Deferred<void> }): Handler => (request) => {
  const common = handshake(request)
  if (common !== undefined) return common
  switch (request.method) {
    case "getAlbum":
      return ok({
        album: {
          id: "al-1",
          name: "Album",
          artist: "Artist",
          song: tracks.map((track, i) => ({
            id: track.id,
            title: `Song ${i + 1}`,
            album: "Album",
            albumId: "al-1",
            artist: "Artist",
            track: i + 1,
            size: track.bytes.length,
            suffix: "wav",
            contentType: "audio/wav"
          }))
        }
      })
    case "download": {
      const track = tracks.find((t) => t.id === request.params.get("id"))
      if (track === undefined) return failed(70, "not found")
      if (state.mode === "broken") return HttpServerResponse.text("<html>no</html>", { status: 500 })
      if (state.mode === "stall") {
        return HttpServerResponse.stream(
          Stream.concat(
            Stream.make(track.bytes.subarray(0, 1000)),
            Stream.fromEffect(Deferred.succeed(state.stalled, undefined)).pipe(Stream.drain, Stream.concat(Stream.never))
          ),
          { contentType: "audio/wav", headers: { "content-length": String(track.bytes.length) } }
        )
      }
      return HttpServerResponse.uint8Array(track.bytes, { contentType: "audio/wav" })
    }
    default:
      return failed(0, "unexpected")
  }
}

/** The whole live engine for one job: its own HTTP pool, the disk, SQLite; built and closed with the job. */
const liveEngine = (base: string, library: string) => {
  const http = HttpClientLive.layer()
  const providers = subsonicRegistry(base, http)
  return EngineLayer.make({
    providers,
    storage: StorageLive.layer(library).pipe(Layer.provide(NodeContext.layer)),
    progress: ProgressRecorder.layer,
    transport: HttpTransportLive.layer.pipe(Layer.provide(http)),
    store: JobStoreSqlite.layer({ filename: join(library, ".lyra", "state.db") }),
    retry: { retries: 1, baseDelay: Duration.millis(5), maxDelay: Duration.millis(20) }
  })
}

/** What this process holds open, by kind: `socket`, `pipe`, `anon_inode:[eventfd]`, or a file's path. */
const openDescriptors = (): ReadonlyArray<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`).replace(/:\[\d+\]$/, "")]
    } catch {
      return [] // the descriptor readdir itself used, closed by now
    }
  }).sort()

const activeResources = (): ReadonlyArray<string> => [...process.getActiveResourcesInfo()].sort()

/** What `after` has more of than `before`. */
const extra = (before: ReadonlyArray<string>, after: ReadonlyArray<string>) => {
  const left = [...before]
  return after.filter((entry) => {
    const at = left.indexOf(entry)
    if (at === -1) return true
    left.splice(at, 1)
    return false
  })
}

interface Usage {
  readonly descriptors: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
}
const usage = Effect.sync((): Usage => ({ descriptors: openDescriptors(), resources: activeResources() }))

/**
 * Waits until the process holds nothing beyond `baseline`: closing is
 * asynchronous (the server's end of a socket closes when it reads the FIN),
 * so this looks again every 25 ms. Still held after 800 looks (a generous
 * while, on any machine), it is a leak, and the test fails naming it. A plain
 * loop, not a timeout: a pending timer of the check's own would count.
 */
const assertBackTo = (baseline: Usage, what: string) =>
  Effect.gen(function*() {
    let now = yield* usage
    for (let look = 0; look < 800; look++) {
      if (extra(baseline.descriptors, now.descriptors).length === 0 && extra(baseline.resources, now.resources).length === 0) {
        return
      }
      yield* Effect.sleep("25 millis")
      now = yield* usage
    }
    return yield* Effect.dieMessage(
      `${what} left behind descriptors [${extra(baseline.descriptors, now.descriptors).join(", ")}] `
        + `and resources [${extra(baseline.resources, now.resources).join(", ")}]`
    )
  })

/** Runs one job on freshly built live layers, under a supervisor: answers its exit and the fibers still alive after it. */
const supervisedJob = (base: string, library: string, interruptWhen?: Deferred.Deferred<void>) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervisor.track
    const job = download(["subsonic:album:al-1"], defaultJobSettings).pipe(
      Effect.provide(liveEngine(base, library)),
      Effect.supervised(supervisor)
    )
    const fiber = yield* Effect.fork(job)
    if (interruptWhen !== undefined) {
      yield* Deferred.await(interruptWhen)
      yield* Fiber.interrupt(fiber)
    }
    // A hang is a failure of its own, named as such rather than left to the test's timeout.
    const exit = yield* Fiber.await(fiber).pipe(
      Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(`the job against ${base} hung`) }),
      Effect.orDie
    )
    const alive = yield* supervisor.value
    return { exit, alive }
  })

describe("no leaks after a job", () => {
  it.scopedLive("succeeded, failed, unreachable or interrupted: no fiber, socket, file handle or timer remains", () =>
    Effect.gen(function*() {
      assert.isTrue(existsSync("/proc/self/fd"), "this test reads /proc (Linux)")
      const dir = yield* tempFolder("lyra-leaks-")
      const state = { mode: "ok" as Mode, stalled: yield* Deferred.make<void>() }
      const server = yield* startServer(leakServer(state))
      const library = (name: string) => join(dir, name)

      // A first job warms up what a process sets up once (libuv's pool, lazily loaded modules).
      const warm = yield* supervisedJob(server.base, library("warm-up"))
      assert.isTrue(Exit.isSuccess(warm.exit))
      yield* assertBackTo(yield* usage, "nothing")
      const baseline = yield* usage

      const succeeded = yield* supervisedJob(server.base, library("ok"))
      assert.isTrue(Exit.isSuccess(succeeded.exit), String(succeeded.exit))
      assert.strictEqual(Exit.isSuccess(succeeded.exit) ? succeeded.exit.value.done : -1, tracks.length)
      assert.deepStrictEqual(succeeded.alive, [], "no fiber outlives a job that succeeded")
      yield* assertBackTo(baseline, "a job that succeeded")

      state.mode = "broken"
      const failing = yield* supervisedJob(server.base, library("broken"))
      assert.isTrue(Exit.isSuccess(failing.exit), String(failing.exit))
      assert.strictEqual(Exit.isSuccess(failing.exit) ? failing.exit.value.failed : -1, tracks.length, "every track failed")
      assert.deepStrictEqual(failing.alive, [], "no fiber outlives a job whose tracks failed")
      yield* assertBackTo(baseline, "a job whose tracks failed")

      // Nobody listening: the job fails before any track.
      const unreachable = yield* supervisedJob("http://127.0.0.1:9", library("unreachable"))
      assert.isTrue(Exit.isSuccess(unreachable.exit) ? unreachable.exit.value.failed > 0 : true, String(unreachable.exit))
      assert.deepStrictEqual(unreachable.alive, [], "no fiber outlives a job that could not connect")
      yield* assertBackTo(baseline, "a job that could not connect")

      // Interrupted while transfers hang mid-body, their sockets and .part files open.
      state.mode = "stall"
      const interrupted = yield* supervisedJob(server.base, library("stall"), state.stalled)
      assert.isTrue(Exit.isInterrupted(interrupted.exit), String(interrupted.exit))
      assert.deepStrictEqual(interrupted.alive, [], "no fiber outlives an interrupted job")
      yield* assertBackTo(baseline, "an interrupted job")
    }), 120_000)
})
