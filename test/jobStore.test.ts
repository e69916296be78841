import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import type { ProgressEventInput } from "../src/domain/ProgressEvent.js"
import * as EngineLayer from "../src/layers/EngineLayer.js"
import * as HttpTransportLive from "../src/layers/HttpTransportLive.js"
import * as JobStoreMemory from "../src/layers/JobStoreMemory.js"
import * as JobStoreSqlite from "../src/layers/JobStoreSqlite.js"
import * as ProgressRecorder from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import * as SimProvider from "../src/layers/sim/SimProvider.js"
import * as StorageMemory from "../src/layers/StorageMemory.js"
import { download } from "../src/programs/download.js"
import { JobStore } from "../src/services/JobStore.js"
import { runVirtual } from "./support/testEngine.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "lyra-store-"))

/** Both stores must behave the same; the SQLite one also across reopenings. */
const behaviours = (name: string, layer: () => Layer.Layer<JobStore, unknown>) =>
  describe(name, () => {
    it.effect("records jobs and journals their items from events", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.startJob(["sim:album:11"], { options: { albums: 2 } })
        assert.strictEqual(job.state, "running")
        yield* store.journal(job.id, { _tag: "ItemQueued", item: "sim:track:1", kind: "track", label: "01. A", parent: "sim:album:11" })
        yield* store.journal(job.id, { _tag: "ItemStarted", item: "sim:track:1", kind: "track" })
        yield* store.journal(job.id, { _tag: "TrackBytes", item: "sim:track:1", bytes: 100 })
        yield* store.journal(job.id, {
          _tag: "Retrying",
          item: "sim:track:1",
          provider: "sim",
          operation: "transfer",
          attempt: 1,
          delayMillis: 10,
          reason: "reset"
        })
        yield* store.journal(job.id, {
          _tag: "ItemFinished",
          item: "sim:track:1",
          kind: "track",
          state: "done",
          bytes: 200,
          path: "A/B/01. A.flac",
          sha256: "ab"
        })
        yield* store.journal(job.id, { _tag: "ItemQueued", item: "sim:track:2", kind: "track", label: "02. B" })
        yield* store.journal(job.id, { _tag: "ItemFinished", item: "sim:track:2", kind: "track", state: "failed", reason: "gone" })
        yield* store.setJobState(job.id, "failed")

        const items = yield* store.items(job.id)
        assert.deepStrictEqual(items[0], {
          item: "sim:track:1",
          kind: "track",
          label: "01. A",
          parent: "sim:album:11",
          path: "A/B/01. A.flac",
          state: "done",
          bytes: 200,
          sha256: "ab",
          attempts: 2,
          error: undefined
        })
        assert.strictEqual(items[1]!.state, "failed")
        assert.strictEqual(items[1]!.error, "gone")
        const again = yield* store.job()
        assert.strictEqual(again.id, job.id)
        assert.strictEqual(again.state, "failed")
        assert.deepStrictEqual(again.settings, { options: { albums: 2 } })
        assert.deepStrictEqual(again.inputs, ["sim:album:11"])

        // A resumed run that finds the file present keeps it done.
        yield* store.journal(job.id, { _tag: "ItemQueued", item: "sim:track:1", kind: "track", label: "01. A" })
        yield* store.journal(job.id, { _tag: "ItemFinished", item: "sim:track:1", kind: "track", state: "skipped" })
        assert.strictEqual((yield* store.items(job.id))[0]!.state, "done")
        assert.match((yield* Effect.flip(store.job("999"))).message, /no job 999/)
      }).pipe(Effect.provide(layer())))

    it.effect("keeps an archive per provider and a metadata cache with a time to live", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        assert.isTrue(Option.isNone(yield* store.archived("sim", "1101")))
        yield* store.archive("sim", "1101", { path: "a.flac", bytes: 3, sha256: "cd" })
        assert.deepStrictEqual(yield* store.archived("sim", "1101"), Option.some({ path: "a.flac", bytes: 3, sha256: "cd" }))
        assert.isTrue(Option.isNone(yield* store.archived("other", "1101")))
        yield* store.archive("other", "7", { path: "b.flac", bytes: 4, sha256: "ef" })
        const among = yield* store.archivedAmong([
          { provider: "sim", id: "1101" },
          { provider: "sim", id: "1102" },
          { provider: "other", id: "7" },
          { provider: "other", id: "1101" }
        ])
        assert.deepStrictEqual(among("sim", "1101"), Option.some({ path: "a.flac", bytes: 3, sha256: "cd" }))
        assert.deepStrictEqual(among("other", "7"), Option.some({ path: "b.flac", bytes: 4, sha256: "ef" }))
        assert.isTrue(Option.isNone(among("sim", "1102")))
        assert.isTrue(Option.isNone(among("other", "1101")))
        assert.isTrue(Option.isNone(among("sim", "7")), "only the tracks asked about")

        yield* store.cache("sim:album:11", "{}")
        assert.deepStrictEqual(yield* store.cached("sim:album:11"), Option.some("{}"))
        yield* TestClock.adjust(Duration.hours(23))
        assert.isTrue(Option.isSome(yield* store.cached("sim:album:11")))
        yield* store.cache("sim:track:1", "[1]")
        assert.deepStrictEqual(
          yield* store.cachedAmong(["sim:album:11", "sim:track:1", "sim:track:2"]),
          new Map([["sim:album:11", "{}"], ["sim:track:1", "[1]"]])
        )
        yield* TestClock.adjust(Duration.hours(2))
        assert.isTrue(Option.isNone(yield* store.cached("sim:album:11")))
        assert.deepStrictEqual(yield* store.cachedAmong(["sim:album:11", "sim:track:1"]), new Map([["sim:track:1", "[1]"]]))
      }).pipe(Effect.provide(layer())))
  })

behaviours("JobStoreMemory", () => JobStoreMemory.layer())
behaviours("JobStoreSqlite", () => JobStoreSqlite.layer({ filename: join(tempDir(), ".lyra", "state.db") }))

describe("JobStoreSqlite on disk", () => {
  it.effect("survives closing and reopening", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const id = yield* Effect.flatMap(JobStore, (store) => store.startJob(["sim:artist:1"], {})).pipe(
        Effect.map((job) => job.id),
        Effect.provide(JobStoreSqlite.layer({ filename }))
      )
      const job = yield* Effect.flatMap(JobStore, (store) => store.job()).pipe(
        Effect.provide(JobStoreSqlite.layer({ filename, readOnly: true }))
      )
      assert.strictEqual(job.id, id)
      assert.isFalse(existsSync(join(filename, "..", "lock")), "the lock goes with the writer")
    })
  })

  it.effect("refuses a file that is not a database, and never touches it", () => {
    const dir = tempDir()
    const filename = join(dir, ".lyra", "state.db")
    return Effect.gen(function*() {
      yield* Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
      writeFileSync(filename, "this is not a database at all, just text")
      const exit = yield* Effect.exit(
        Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(exit), /is not a lyra state database/)
      assert.strictEqual(readFileSync(filename, "utf8"), "this is not a database at all, just text")
    })
  })

  it.effect("refuses a store from a newer lyra", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      yield* Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
      yield* Effect.sync(() => {
        // better-sqlite3 is what the layer uses underneath; bump the version as a future lyra would.
        const Database = require("better-sqlite3") as new(file: string) => { pragma(s: string): void; close(): void }
        const db = new Database(filename)
        db.pragma("user_version = 99")
        db.close()
      })
      const exit = yield* Effect.exit(
        Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
      )
      assert.match(String(exit), /written by a newer lyra \(state version 99; this lyra knows 1\)/)
    })
  })

  it.effect("one writer per library: a live holder is named, a dead one is taken over, another host's is named", () => {
    const dir = tempDir()
    const filename = join(dir, ".lyra", "state.db")
    const lock = join(dir, ".lyra", "lock")
    return Effect.gen(function*() {
      const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" })
      try {
        yield* Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
        writeFileSync(lock, JSON.stringify({ pid: other.pid, host: require("node:os").hostname(), since: 0 }))
        const refused = yield* Effect.exit(
          Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
        )
        assert.match(String(refused), new RegExp(`another lyra \\(pid ${other.pid}, running since`))
        // Readers are never refused.
        yield* Effect.flatMap(JobStore, (store) => store.jobs).pipe(
          Effect.provide(JobStoreSqlite.layer({ filename, readOnly: true }))
        )
      } finally {
        other.kill("SIGKILL")
      }
      yield* Effect.promise(() => new Promise((resolve) => other.once("exit", resolve)))
      yield* Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))

      // A holder on another host (a network share) cannot be checked: it is named, with how to clear a stale lock.
      writeFileSync(lock, JSON.stringify({ pid: 4242, host: "elsewhere", since: 0 }))
      const shared = yield* Effect.exit(
        Effect.flatMap(JobStore, (store) => store.jobs).pipe(Effect.provide(JobStoreSqlite.layer({ filename })))
      )
      assert.include(String(shared), `another lyra (pid 4242 on elsewhere, running since 1970-01-01T00:00:00.000Z)`)
      assert.include(String(shared), `if it is gone, delete ${lock}`)
    })
  })
})

describe("JobStoreSqlite journal batching", () => {
  /** What another process (or a lyra started after a kill -9) finds on disk right now. */
  const onDisk = (filename: string, job: string) =>
    Effect.flatMap(JobStore, (store) => store.items(job)).pipe(
      Effect.provide(JobStoreSqlite.layer({ filename, readOnly: true })),
      Effect.map((items) => new Map(items.map((item) => [item.item, item.state])))
    )
  const queued = (item: string): ProgressEventInput => ({ _tag: "ItemQueued", item, kind: "track", label: item })
  const finished = (item: string, state: "done" | "failed" | "skipped"): ProgressEventInput => ({
    _tag: "ItemFinished",
    item,
    kind: "track",
    state,
    ...(state === "failed" ? { reason: "gone" } : {})
  })
  /** A writer store that holds journaled events for a long time: whatever is on disk got there otherwise. */
  const patient = (filename: string) => JobStoreSqlite.layer({ filename, journalDelay: Duration.hours(1) })

  it.scoped("holds journaled events, then writes them together once the delay is over", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const context = yield* Layer.build(JobStoreSqlite.layer({ filename, journalDelay: "1 second" }))
      const store = Context.get(context, JobStore)
      const job = yield* store.startJob(["sim:album:11"], {})
      yield* store.journal(job.id, queued("a"))
      yield* store.journal(job.id, { _tag: "ItemStarted", item: "a", kind: "track" })
      yield* store.journal(job.id, queued("b"))
      assert.strictEqual((yield* onDisk(filename, job.id)).size, 0, "nothing written yet")
      yield* TestClock.adjust("1 second")
      yield* Effect.yieldNow()
      assert.deepStrictEqual(yield* onDisk(filename, job.id), new Map([["a", "running"], ["b", "queued"]]))
    })
  })

  it.effect("writes a done or failed item at once, with everything journaled before it", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const store = yield* JobStore
      const job = yield* store.startJob(["sim:album:11"], {})
      yield* store.journal(job.id, queued("a"))
      yield* store.journal(job.id, queued("b"))
      yield* store.journal(job.id, queued("c"))
      yield* store.journal(job.id, finished("c", "skipped"))
      assert.strictEqual((yield* onDisk(filename, job.id)).size, 0, "a skip waits for the batch")
      yield* store.journal(job.id, finished("a", "done"))
      assert.deepStrictEqual(
        yield* onDisk(filename, job.id),
        new Map([["a", "done"], ["b", "queued"], ["c", "skipped"]])
      )
      yield* store.journal(job.id, finished("b", "failed"))
      assert.strictEqual((yield* onDisk(filename, job.id)).get("b"), "failed")
    }).pipe(Effect.provide(patient(filename)))
  })

  it.effect("writes an archive entry and a job's state together with what was journaled before them", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const store = yield* JobStore
      const job = yield* store.startJob(["sim:album:11"], {})
      yield* store.journal(job.id, queued("a"))
      yield* store.archive("sim", "1101", { path: "a.flac", bytes: 3, sha256: "cd" })
      assert.deepStrictEqual(yield* onDisk(filename, job.id), new Map([["a", "queued"]]))
      yield* store.journal(job.id, queued("b"))
      yield* store.setJobState(job.id, "interrupted")
      assert.deepStrictEqual(yield* onDisk(filename, job.id), new Map([["a", "queued"], ["b", "queued"]]))
    }).pipe(Effect.provide(patient(filename)))
  })

  it.effect("writes what is pending when the store closes, and when the job using it is interrupted", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const first = yield* Effect.flatMap(JobStore, (store) =>
        Effect.gen(function*() {
          const job = yield* store.startJob(["sim:album:11"], {})
          yield* store.journal(job.id, queued("a"))
          yield* store.journal(job.id, finished("a", "skipped"))
          return job.id
        })).pipe(Effect.provide(patient(filename)))
      assert.deepStrictEqual(yield* onDisk(filename, first), new Map([["a", "skipped"]]))

      const ready = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(Effect.flatMap(JobStore, (store) =>
        Effect.gen(function*() {
          const job = yield* store.startJob(["sim:album:11"], {})
          yield* store.journal(job.id, queued("b"))
          yield* Deferred.succeed(ready, job.id)
          return yield* Effect.never
        })).pipe(Effect.provide(patient(filename))))
      const second = yield* Deferred.await(ready)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* onDisk(filename, second), new Map([["b", "queued"]]))
    })
  })

  it.effect("a cache entry waits for the batch, and reads the same before and after it is written", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const before = yield* Effect.flatMap(JobStore, (store) =>
        Effect.gen(function*() {
          yield* store.cache("sim:track:1", "[1]")
          yield* store.cache("sim:track:2", "[2]")
          return [yield* store.cached("sim:track:1"), yield* store.cachedAmong(["sim:track:1", "sim:track:2"])] as const
        })).pipe(Effect.provide(patient(filename)))
      const after = yield* Effect.flatMap(JobStore, (store) =>
        Effect.all([store.cached("sim:track:1"), store.cachedAmong(["sim:track:1", "sim:track:2"])])).pipe(
          Effect.provide(JobStoreSqlite.layer({ filename, readOnly: true }))
        )
      assert.deepStrictEqual(before, [Option.some("[1]"), new Map([["sim:track:1", "[1]"], ["sim:track:2", "[2]"]])])
      assert.deepStrictEqual(after, before)
    })
  })

  it.effect("a reopened store continues a job's items: a track done before stays done", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    return Effect.gen(function*() {
      const id = yield* Effect.flatMap(JobStore, (store) =>
        Effect.gen(function*() {
          const job = yield* store.startJob(["sim:album:11"], {})
          yield* store.journal(job.id, queued("a"))
          yield* store.journal(job.id, { _tag: "ItemStarted", item: "a", kind: "track" })
          yield* store.journal(job.id, finished("a", "done"))
          return job.id
        })).pipe(Effect.provide(patient(filename)))
      const items = yield* Effect.flatMap(JobStore, (store) =>
        Effect.gen(function*() {
          yield* store.journal(id, queued("a"))
          yield* store.journal(id, { _tag: "ItemStarted", item: "a", kind: "track" })
          yield* store.journal(id, finished("a", "skipped"))
          return yield* store.items(id)
        })).pipe(Effect.provide(patient(filename)))
      assert.strictEqual(items.length, 1)
      assert.strictEqual(items[0]!.state, "done")
      assert.strictEqual(items[0]!.attempts, 2, "attempts carry over from the first run")
    })
  })

  it.effect("a download's records are all on disk when it ends", () => {
    const filename = join(tempDir(), ".lyra", "state.db")
    const sim = SimProvider.registryLayer(SimProfile.exact())
    const engine = EngineLayer.make({
      providers: sim,
      storage: StorageMemory.layer(),
      progress: ProgressRecorder.layer,
      transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)),
      store: patient(filename)
    })
    return Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], { ...defaultJobSettings }))
      assert.strictEqual(report.done, 10)
      const items = yield* onDisk(filename, report.jobId)
      assert.strictEqual(items.size, 11)
      assert.isTrue([...items.values()].every((state) => state === "done"))
    }).pipe(Effect.provide(engine))
  })
})
