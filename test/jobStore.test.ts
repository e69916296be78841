import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option, TestClock } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as JobStoreMemory from "../src/layers/JobStoreMemory.js"
import * as JobStoreSqlite from "../src/layers/JobStoreSqlite.js"
import { JobStore } from "../src/services/JobStore.js"

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

        yield* store.cache("sim:album:11", "{}")
        assert.deepStrictEqual(yield* store.cached("sim:album:11"), Option.some("{}"))
        yield* TestClock.adjust(Duration.hours(23))
        assert.isTrue(Option.isSome(yield* store.cached("sim:album:11")))
        yield* TestClock.adjust(Duration.hours(2))
        assert.isTrue(Option.isNone(yield* store.cached("sim:album:11")))
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

  it.effect("one writer per library: a live holder is named, a dead one is taken over", () => {
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
    })
  })
})
