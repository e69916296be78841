import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Effect, Fiber } from "effect"
import { makePool } from "../src/layers/TaggerLive.js"

/** A stand-in tagging thread: answers each job after the milliseconds its path names. */
const echo = `
const { parentPort } = require("node:worker_threads")
parentPort.on("message", (job) => {
  if (job.path === "crash") throw new Error("boom")
  setTimeout(() => parentPort.postMessage({ id: job.id, error: undefined }), Number(job.path))
})
`

const job = (millis: number) => ({ path: String(millis), tags: { artists: [] } as never, cover: undefined })

const pool = (size: number, growAfter: Duration.DurationInput = "100 millis") =>
  makePool(echo, size, { growAfter, worker: { eval: true } })

describe("TaggerLive's thread pool", () => {
  it.scopedLive("runs light work on one thread", () =>
    Effect.gen(function*() {
      const { run, threads } = yield* pool(4)
      for (let i = 0; i < 5; i++) yield* run(job(1))
      assert.strictEqual(threads(), 1)
    }))

  it.scopedLive("grows to its size under a backlog, and no further", () =>
    Effect.gen(function*() {
      const { run, threads } = yield* pool(2)
      const replies = yield* Effect.all(Array.from({ length: 6 }, () => run(job(30))), { concurrency: "unbounded" })
      assert.strictEqual(threads(), 2)
      assert.strictEqual(new Set(replies.map((reply) => reply.id)).size, 6)
      assert.isTrue(replies.every((reply) => reply.error === undefined))
    }))

  it.scopedLive("a burst shorter than growAfter is served by the one thread", () =>
    Effect.gen(function*() {
      const { run, threads } = yield* pool(3, "1 minute")
      yield* run(job(1))
      yield* Effect.all(Array.from({ length: 4 }, () => run(job(20))), { concurrency: "unbounded" })
      assert.strictEqual(threads(), 1)
    }))

  it.scopedLive("a job that waits longer than growAfter for a busy thread starts another", () =>
    Effect.gen(function*() {
      const { run, threads } = yield* pool(3)
      yield* run(job(1))
      const busy = yield* Effect.fork(run(job(1_500)))
      yield* Effect.sleep("20 millis")
      yield* run(job(1))
      assert.strictEqual(threads(), 2)
      yield* Fiber.join(busy)
    }))

  it.scopedLive("a waiting job that is interrupted gives up its place, and the thread serves the next", () =>
    Effect.gen(function*() {
      const { run, threads } = yield* pool(1)
      const busy = yield* Effect.fork(run(job(1_500)))
      yield* Effect.sleep("20 millis")
      const gaveUp = yield* Effect.fork(run(job(1)))
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(gaveUp)
      yield* Fiber.join(busy)
      const reply = yield* run(job(1))
      assert.isUndefined(reply.error)
      assert.strictEqual(threads(), 1)
    }))

  it.scopedLive("a thread that dies fails its job, and the job waiting for it gets a new thread", () =>
    Effect.gen(function*() {
      const { run } = yield* pool(1)
      yield* run(job(1))
      const crashing = yield* Effect.fork(run({ ...job(0), path: "crash" }))
      const waiting = yield* Effect.fork(run(job(1)))
      const failed = yield* Fiber.join(crashing)
      assert.include(failed.error ?? "", "tagging thread failed")
      const served = yield* Fiber.join(waiting).pipe(Effect.timeout("10 seconds"))
      assert.isUndefined(served.error)
    }))
})
