import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as PriorityPermits from "../src/engine/PriorityPermits.js"

describe("PriorityPermits", () => {
  it.effect("a freed permit goes to the best waiter, not to the first to ask", () =>
    Effect.gen(function*() {
      const permits = yield* PriorityPermits.make(1)
      const order: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit([0])(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const late = yield* Effect.fork(permits.withPermit([2])(Effect.sync(() => order.push("late"))))
      yield* Effect.yieldNow()
      const early = yield* Effect.fork(permits.withPermit([1])(Effect.sync(() => order.push("early"))))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(early)
      yield* Fiber.join(late)
      assert.deepStrictEqual(order, ["early", "late"])
    }))

  it.effect("a track that frees its album's slot passes the permit to that album's next track", () =>
    Effect.gen(function*() {
      // Two permits; album A (earlier) may run two tracks at once, album B five.
      const permits = yield* PriorityPermits.make(2)
      const albumA = PriorityPermits.makeGroupLimit(2)
      const albumB = PriorityPermits.makeGroupLimit(5)
      const order: Array<string> = []
      const gates = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
      const running = [0, 1].map((i) => permits.withPermit([0, i], albumA)(Deferred.await(gates[i]!)))
      const holders = yield* Effect.forEach(running, (effect) => Effect.fork(effect))
      yield* Effect.yieldNow()
      assert.strictEqual(permits.inUse(), 2)
      // B's first track waits for a permit; A's third waits for a permit and its album's room.
      const b1 = yield* Effect.fork(permits.withPermit([1, 0], albumB)(Effect.sync(() => order.push("B1"))))
      yield* Effect.yieldNow()
      const a3 = yield* Effect.fork(permits.withPermit([0, 2], albumA)(Effect.sync(() => order.push("A3"))))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gates[0]!, undefined)
      yield* Fiber.join(holders[0]!)
      yield* Fiber.join(a3)
      assert.deepStrictEqual(order, ["A3"], "album A, which started first, goes on first")
      yield* Deferred.succeed(gates[1]!, undefined)
      yield* Fiber.join(holders[1]!)
      yield* Fiber.join(b1)
      assert.deepStrictEqual(order, ["A3", "B1"])
      assert.strictEqual(permits.inUse(), 0)
      assert.strictEqual(albumA.free, 2)
      assert.strictEqual(albumB.free, 5)
    }))

  it.effect("a waiter whose album is full lets a later album's track through", () =>
    Effect.gen(function*() {
      const permits = yield* PriorityPermits.make(2)
      const albumA = PriorityPermits.makeGroupLimit(1)
      const albumB = PriorityPermits.makeGroupLimit(1)
      const gate = yield* Deferred.make<void>()
      const a1 = yield* Effect.fork(permits.withPermit([0, 0], albumA)(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const a2 = yield* Effect.fork(permits.withPermit([0, 1], albumA)(Effect.void))
      const b1 = yield* Effect.fork(permits.withPermit([1, 0], albumB)(Effect.void))
      yield* Fiber.join(b1)
      assert.isNull(a2.unsafePoll(), "A's second track waits for its album's room")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(a1)
      yield* Fiber.join(a2)
      assert.strictEqual(permits.inUse(), 0)
    }))

  it.effect("an interrupted waiter leaves no permit taken", () =>
    Effect.gen(function*() {
      const permits = yield* PriorityPermits.make(1)
      const album = PriorityPermits.makeGroupLimit(1)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit([0], album)(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(permits.withPermit([1], album)(Effect.never))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiter)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(permits.inUse(), 0)
      assert.strictEqual(album.free, 1)
    }))
})
