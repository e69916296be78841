import { createHash } from "node:crypto"
import { existsSync, readdirSync, readlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { FileSystem, Path } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Data, Deferred, Effect, Either, Exit, Fiber, Layer, Stream } from "effect"
import * as StorageLive from "../src/layers/StorageLive.js"
import { Storage } from "../src/services/Storage.js"
import type { StorageError } from "../src/services/StorageError.js"

const bytesOf = (text: string) => new TextEncoder().encode(text)
const sha256 = (...parts: ReadonlyArray<Uint8Array>) => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

/** A fresh library in a real temp folder, removed when the test's scope closes. */
const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectoryScoped({ directory: tmpdir(), prefix: "lyra-storage-" })
  const root = path.join(dir, "library")
  const storage = yield* Effect.provide(Storage, StorageLive.layer(root))
  return { fs, dir, root, storage, at: (relative: string) => path.join(root, relative) }
}).pipe(Effect.provide(NodeContext.layer))

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  assert.isDefined(error, `expected a typed failure, got ${exit.cause._tag}`)
  return error as E
}

/** What this process holds open, where the platform can tell (Linux). */
const openFiles = Effect.sync(() => {
  if (!existsSync("/proc/self/fd")) return []
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)]
    } catch {
      return []
    }
  })
})

class BodyError extends Data.TaggedError("BodyError")<{}> {}

describe("StorageLive", () => {
  it.scoped("writes to the part file, then commits it under the final name", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      const chunks = [bytesOf("fLaC"), bytesOf(" some "), bytesOf("audio")]
      const result = yield* storage.write("Artist/Album/01 Track.flac", Stream.fromIterable(chunks), { append: false })
      assert.deepStrictEqual(result, { bytes: 15, sha256: sha256(...chunks) })
      assert.deepStrictEqual(yield* storage.inspect("Artist/Album/01 Track.flac"), {
        finalBytes: undefined,
        partialBytes: 15
      })
      assert.isFalse(yield* fs.exists(at("Artist/Album/01 Track.flac")))

      yield* storage.commit("Artist/Album/01 Track.flac")
      assert.deepStrictEqual(yield* storage.inspect("Artist/Album/01 Track.flac"), {
        finalBytes: 15,
        partialBytes: 0
      })
      assert.strictEqual(yield* fs.readFileString(at("Artist/Album/01 Track.flac")), "fLaC some audio")
      assert.isFalse(yield* fs.exists(at("Artist/Album/01 Track.flac.part")))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("resumes by appending, hashing the whole part", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      const first = bytesOf("first half, ")
      const second = bytesOf("second half")
      yield* storage.write("a.flac", Stream.make(first), { append: false })
      assert.strictEqual((yield* storage.inspect("a.flac")).partialBytes, first.length)

      const resumed = yield* storage.write("a.flac", Stream.make(second), { append: true })
      assert.deepStrictEqual(resumed, { bytes: first.length + second.length, sha256: sha256(first, second) })
      yield* storage.commit("a.flac")
      assert.strictEqual(yield* fs.readFileString(at("a.flac")), "first half, second half")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("appending with no part starts one; not appending truncates", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const fresh = yield* storage.write("b.flac", Stream.make(bytesOf("abc")), { append: true })
      assert.deepStrictEqual(fresh, { bytes: 3, sha256: sha256(bytesOf("abc")) })
      const restarted = yield* storage.write("b.flac", Stream.make(bytesOf("xy")), { append: false })
      assert.deepStrictEqual(restarted, { bytes: 2, sha256: sha256(bytesOf("xy")) })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("streams a large body chunk by chunk", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const chunk = new Uint8Array(64 * 1024).fill(7)
      const count = 160
      const body = Stream.range(1, count).pipe(Stream.map(() => chunk))
      const result = yield* storage.write("big.flac", body, { append: false })
      assert.strictEqual(result.bytes, chunk.length * count)
      assert.strictEqual(result.sha256, sha256(...Array.from({ length: count }, () => chunk)))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("an interrupted write leaves only the part, and it resumes", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      const head = bytesOf("head bytes")
      const started = yield* Deferred.make<void>()
      const body = Stream.make(head).pipe(
        Stream.concat(Stream.fromEffect(Deferred.succeed(started, undefined)).pipe(Stream.drain)),
        Stream.concat(Stream.never)
      )
      const fiber = yield* Effect.fork(storage.write("c.flac", body, { append: false }))
      yield* Deferred.await(started)
      if (existsSync("/proc/self/fd")) assert.include(yield* openFiles, at("c.flac.part"))
      yield* Fiber.interrupt(fiber)

      assert.isFalse(yield* fs.exists(at("c.flac")))
      assert.deepStrictEqual(yield* storage.inspect("c.flac"), { finalBytes: undefined, partialBytes: head.length })
      assert.notInclude(yield* openFiles, at("c.flac.part"), "the interrupted write closed its handle")

      const tail = bytesOf(" and tail")
      const resumed = yield* storage.write("c.flac", Stream.make(tail), { append: true })
      assert.deepStrictEqual(resumed, { bytes: head.length + tail.length, sha256: sha256(head, tail) })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a failing body keeps its own error and leaves the part", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const body = Stream.make(bytesOf("abc")).pipe(Stream.concat(Stream.fail(new BodyError())))
      const error = failure(yield* Effect.exit(storage.write("d.flac", body, { append: false })))
      assert.strictEqual(error._tag, "BodyError")
      assert.strictEqual((yield* storage.inspect("d.flac")).partialBytes, 3)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("refuses paths that leave the root", () =>
    Effect.gen(function*() {
      const { dir, fs, storage } = yield* setup
      for (const path of ["../escape.flac", "a/../../escape.flac", "/tmp/escape.flac", "C:\\escape.flac", "", "."]) {
        const error = failure(yield* Effect.exit(storage.write(path, Stream.make(bytesOf("x")), { append: false })))
        assert.strictEqual(error._tag, "StorageError")
        assert.strictEqual((error as StorageError).reason, "path leaves the library folder")
        assert.strictEqual(failure(yield* Effect.exit(storage.inspect(path)))._tag, "StorageError")
        assert.strictEqual(failure(yield* Effect.exit(storage.commit(path)))._tag, "StorageError")
        assert.strictEqual(failure(yield* Effect.exit(storage.discard(path)))._tag, "StorageError")
        assert.strictEqual(failure(yield* Effect.exit(storage.copy("x", path)))._tag, "StorageError")
      }
      assert.isFalse(yield* fs.exists(`${dir}/escape.flac.part`))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a file where a folder should be gives a one-line StorageError", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      yield* storage.write("blocker", Stream.make(bytesOf("x")), { append: false })
      yield* storage.commit("blocker")
      const error = failure(
        yield* Effect.exit(storage.write("blocker/inside/track.flac", Stream.make(bytesOf("x")), { append: false }))
      )
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(error.path, "blocker/inside/track.flac")
      assert.strictEqual(error.message, "cannot write blocker/inside/track.flac: a parent of this path is a file, not a folder")

      const direct = failure(yield* Effect.exit(storage.write("blocker/track.flac", Stream.make(bytesOf("x")), { append: false })))
      assert.strictEqual(direct.message, "cannot write blocker/track.flac: a file is in the way of a folder")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a folder where the file should be is reported, not listed", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      yield* fs.makeDirectory(at("dir.flac"), { recursive: true })
      const error = failure(yield* Effect.exit(storage.inspect("dir.flac")))
      assert.strictEqual(error.reason, "a folder is in the way")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("finalSizes: many finished files at once, each with its size, none, or why not", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      yield* storage.write("A/one.flac", Stream.make(bytesOf("abc")), { append: false })
      yield* storage.commit("A/one.flac")
      yield* storage.write("A/part-only.flac", Stream.make(bytesOf("abcd")), { append: false })
      yield* fs.makeDirectory(at("A/dir.flac"), { recursive: true })
      const sizes = yield* storage.finalSizes(["A/one.flac", "A/part-only.flac", "missing/x.flac", "A/dir.flac", "../out.flac"])
      assert.deepStrictEqual(sizes.slice(0, 3), [Either.right(3), Either.right(undefined), Either.right(undefined)])
      assert.deepStrictEqual(sizes.slice(3).map((size) => Either.isLeft(size) ? size.left.reason : size), [
        "a folder is in the way",
        "path leaves the library folder"
      ])
      assert.deepStrictEqual(yield* storage.finalSizes([]), [])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("commit without a part, and discard", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const error = failure(yield* Effect.exit(storage.commit("none.flac")))
      assert.strictEqual(error.reason, "nothing to commit: no .part file")

      yield* storage.discard("none.flac")
      yield* storage.write("e.flac", Stream.make(bytesOf("abc")), { append: false })
      yield* storage.discard("e.flac")
      assert.deepStrictEqual(yield* storage.inspect("e.flac"), { finalBytes: undefined, partialBytes: 0 })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("copies a finished file atomically", () =>
    Effect.gen(function*() {
      const { at, fs, storage } = yield* setup
      yield* storage.write("Album/cover.jpg", Stream.make(bytesOf("jpeg")), { append: false })
      yield* storage.commit("Album/cover.jpg")
      yield* storage.copy("Album/cover.jpg", "Other Album/cover.jpg")
      assert.strictEqual(yield* fs.readFileString(at("Other Album/cover.jpg")), "jpeg")
      assert.isFalse(yield* fs.exists(at("Other Album/cover.jpg.part")))
      assert.strictEqual(yield* fs.readFileString(at("Album/cover.jpg")), "jpeg")

      const error = failure(yield* Effect.exit(storage.copy("missing.jpg", "x.jpg")))
      assert.deepStrictEqual([error.path, error.reason], ["missing.jpg", "no such file to copy"])
      assert.isFalse(yield* fs.exists(at("x.jpg.part")))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reports the root it resolved", () =>
    Effect.gen(function*() {
      const { root, storage } = yield* setup
      assert.strictEqual(storage.root, root)
    }).pipe(Effect.provide(NodeContext.layer)))
})

/** A file system whose every open fails with the given errno, as Node reports it. */
const failingOpen = (code: string) =>
  Layer.merge(
    FileSystem.layerNoop({
      makeDirectory: () => Effect.void,
      open: (path) =>
        Effect.fail(
          new SystemError({
            reason: code === "EACCES" ? "PermissionDenied" : "Unknown",
            module: "FileSystem",
            method: "open",
            pathOrDescriptor: path,
            description: `${code}: something, open '${path}'`,
            cause: Object.assign(new Error(`${code}: something`), { code })
          })
        )
    }),
    Path.layer
  )

describe("StorageLive error reasons", () => {
  for (
    const [code, reason] of [
      ["ENOSPC", "disk full"],
      ["EACCES", "permission denied"],
      ["EPERM", "permission denied"],
      ["EROFS", "read-only file system"],
      ["ENOTDIR", "a parent of this path is a file, not a folder"],
      ["EISDIR", "a folder is in the way"],
      ["EWHATEVER", "open failed (EWHATEVER)"]
    ] as const
  ) {
    it.effect(`${code} reads as "${reason}"`, () =>
      Effect.gen(function*() {
        const storage = yield* Storage
        const error = failure(yield* Effect.exit(storage.write("a/b.flac", Stream.make(bytesOf("x")), { append: false })))
        assert.strictEqual(error._tag, "StorageError")
        assert.strictEqual(error.reason, reason)
        assert.strictEqual(error.message, `cannot write a/b.flac: ${reason}`)
      }).pipe(Effect.provide(StorageLive.layer("/library").pipe(Layer.provide(failingOpen(code))))))
  }
})
