import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Either, Exit, FastCheck as fc, Fiber, Stream } from "effect"
import * as StorageMemory from "../src/layers/StorageMemory.js"
import { Storage } from "../src/services/Storage.js"

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array | undefined) => bytes === undefined ? undefined : new TextDecoder().decode(bytes)
const sha256 = (...parts: ReadonlyArray<Uint8Array>) => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error("expected a typed failure")
  return exit.cause.error
}

describe("StorageMemory", () => {
  it.effect("writes to the part, commits it under the final name", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      const chunks = [bytesOf("fLaC"), bytesOf(" audio")]
      const result = yield* storage.write("Artist/Album/01.flac", Stream.fromIterable(chunks), { append: false })
      assert.deepStrictEqual(result, { bytes: 10, sha256: sha256(...chunks) })
      assert.deepStrictEqual([...(yield* files).keys()], ["Artist/Album/01.flac.part"])
      assert.deepStrictEqual(yield* storage.inspect("Artist/Album/01.flac"), { finalBytes: undefined, partialBytes: 10 })

      yield* storage.commit("Artist/Album/01.flac")
      const stored = yield* files
      assert.deepStrictEqual([...stored.keys()], ["Artist/Album/01.flac"])
      assert.strictEqual(textOf(stored.get("Artist/Album/01.flac")), "fLaC audio")
      assert.deepStrictEqual(yield* storage.inspect("Artist/Album/01.flac"), { finalBytes: 10, partialBytes: 0 })
    }))

  it.effect("finalSizes: finished files only; a path leaving the library says so", () =>
    Effect.gen(function*() {
      const { storage } = yield* StorageMemory.make()
      yield* storage.write("a.flac", Stream.make(bytesOf("abc")), { append: false })
      yield* storage.commit("a.flac")
      yield* storage.write("b.flac", Stream.make(bytesOf("ab")), { append: false })
      const sizes = yield* storage.finalSizes(["a.flac", "b.flac", "../c.flac"])
      assert.deepStrictEqual(sizes.slice(0, 2), [Either.right(3), Either.right(undefined)])
      assert.strictEqual(Either.isLeft(sizes[2]!) && sizes[2].left.reason, "path leaves the library folder")
    }))

  it.effect("resumes by appending and hashes the whole part; not appending truncates", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      yield* storage.write("a.flac", Stream.make(bytesOf("one ")), { append: false })
      const resumed = yield* storage.write("a.flac", Stream.make(bytesOf("two")), { append: true })
      assert.deepStrictEqual(resumed, { bytes: 7, sha256: sha256(bytesOf("one two")) })
      assert.strictEqual(textOf((yield* files).get("a.flac.part")), "one two")

      const restarted = yield* storage.write("a.flac", Stream.make(bytesOf("new")), { append: false })
      assert.deepStrictEqual(restarted, { bytes: 3, sha256: sha256(bytesOf("new")) })
    }))

  it.effect("keeps its own copy of each chunk", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      const buffer = bytesOf("abc")
      yield* storage.write("a.flac", Stream.make(buffer), { append: false })
      buffer.fill(0)
      assert.strictEqual(textOf((yield* files).get("a.flac.part")), "abc")
    }))

  it.effect("an interrupted write leaves only the part", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      const started = yield* Deferred.make<void>()
      const body = Stream.make(bytesOf("head")).pipe(
        Stream.concat(Stream.fromEffect(Deferred.succeed(started, undefined)).pipe(Stream.drain)),
        Stream.concat(Stream.never)
      )
      const fiber = yield* Effect.fork(storage.write("c.flac", body, { append: false }))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual([...(yield* files).keys()], ["c.flac.part"])
      assert.deepStrictEqual(yield* storage.inspect("c.flac"), { finalBytes: undefined, partialBytes: 4 })
    }))

  it.effect("refuses paths that leave the root", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      for (const path of ["../x.flac", "a/../../x.flac", "/etc/passwd", "C:\\x", "", ".", "a/"]) {
        const error = failure(yield* Effect.exit(storage.write(path, Stream.make(bytesOf("x")), { append: false })))
        assert.deepStrictEqual([error._tag, error.reason], ["StorageError", "path leaves the library folder"])
        assert.strictEqual(failure(yield* Effect.exit(storage.inspect(path))).reason, "path leaves the library folder")
        assert.strictEqual(failure(yield* Effect.exit(storage.commit(path))).reason, "path leaves the library folder")
        assert.strictEqual(failure(yield* Effect.exit(storage.discard(path))).reason, "path leaves the library folder")
      }
      assert.strictEqual((yield* files).size, 0)
    }))

  it.effect("reports a file where a folder should be, and a folder where a file should be", () =>
    Effect.gen(function*() {
      const { storage } = yield* StorageMemory.make()
      yield* storage.write("blocker", Stream.make(bytesOf("x")), { append: false })
      yield* storage.commit("blocker")
      const under = failure(yield* Effect.exit(storage.write("blocker/t.flac", Stream.make(bytesOf("x")), { append: false })))
      assert.strictEqual(under.reason, "a parent of this path is a file, not a folder")

      yield* storage.write("dir/t.flac", Stream.make(bytesOf("x")), { append: false })
      yield* storage.commit("dir/t.flac")
      yield* storage.write("dir", Stream.make(bytesOf("x")), { append: false })
      assert.strictEqual(failure(yield* Effect.exit(storage.commit("dir"))).reason, "a folder is in the way")
    }))

  it.effect("commit without a part fails; discard is quiet either way", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      assert.strictEqual(failure(yield* Effect.exit(storage.commit("x.flac"))).reason, "nothing to commit: no .part file")
      yield* storage.discard("x.flac")
      yield* storage.write("x.flac", Stream.make(bytesOf("x")), { append: false })
      yield* storage.discard("x.flac")
      assert.strictEqual((yield* files).size, 0)
    }))

  it.effect("copies a finished file", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make()
      yield* storage.write("A/cover.jpg", Stream.make(bytesOf("jpeg")), { append: false })
      yield* storage.commit("A/cover.jpg")
      yield* storage.copy("A/cover.jpg", "B/cover.jpg")
      const stored = yield* files
      assert.deepStrictEqual([...stored.keys()].sort(), ["A/cover.jpg", "B/cover.jpg"])
      assert.strictEqual(textOf(stored.get("B/cover.jpg")), "jpeg")

      const error = failure(yield* Effect.exit(storage.copy("missing.jpg", "x.jpg")))
      assert.deepStrictEqual([error.path, error.reason], ["missing.jpg", "no such file to copy"])
    }))

  it.effect("fails with disk full past its capacity", () =>
    Effect.gen(function*() {
      const { files, storage } = yield* StorageMemory.make({ capacityBytes: 5 })
      const error = failure(
        yield* Effect.exit(storage.write("a.flac", Stream.make(bytesOf("abc"), bytesOf("def")), { append: false }))
      )
      assert.strictEqual(error.message, "cannot write a.flac: disk full")
      assert.strictEqual(textOf((yield* files).get("a.flac.part")), "abc")
    }))

  it.effect("as a layer, provides Storage and a view of the files", () =>
    Effect.gen(function*() {
      const storage = yield* Storage
      const memory = yield* StorageMemory.StorageMemory
      assert.strictEqual(storage.root, "/music")
      yield* storage.write("x.flac", Stream.make(bytesOf("x")), { append: false })
      yield* storage.commit("x.flac")
      assert.strictEqual(textOf((yield* memory.files).get("x.flac")), "x")
    }).pipe(Effect.provide(StorageMemory.layer({ root: "/music" }))))

  it.effect.prop(
    "stores exactly what was streamed, however it is chunked",
    [fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.nat({ max: 20 })],
    ([chunks, split]) =>
      Effect.gen(function*() {
        const { files, storage } = yield* StorageMemory.make()
        yield* storage.write("t.flac", Stream.fromIterable(chunks.slice(0, split)), { append: false })
        const result = yield* storage.write("t.flac", Stream.fromIterable(chunks.slice(split)), { append: true })
        yield* storage.commit("t.flac")
        const expected = Uint8Array.from(chunks.flatMap((chunk) => [...chunk]))
        assert.deepStrictEqual(result, { bytes: expected.length, sha256: sha256(expected) })
        assert.deepStrictEqual((yield* files).get("t.flac"), expected)
      })
  )
})
