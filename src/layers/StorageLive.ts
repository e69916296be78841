import { createHash, type Hash } from "node:crypto"
import * as NodeFs from "node:fs"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { PlatformError } from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { isInside, normalizeRelative } from "../domain/SafePath.js"
import { Storage } from "../services/Storage.js"
import { StorageError } from "../services/StorageError.js"
import { errnoCode, reasonOfCode } from "./osErrorReason.js"

/** Bytes read per step when hashing a part file that is being resumed. */
const READ_CHUNK = 64 * 1024

/** One line a user can act on; the system's own message and stack stay out of it. */
const reasonOf = (error: PlatformError): string => {
  if (error._tag === "BadArgument") return `invalid argument to ${error.method}`
  const code = errnoCode(error.cause)
  if (code !== undefined) return reasonOfCode(code) ?? `${error.method} failed (${code})`
  if (error.reason === "WriteZero") return "the disk accepted no bytes"
  return `${error.method} failed (${error.reason})`
}

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

/** An open that failed for want of its folder: missing, or a file where it should be. */
const isMissingFolder = (error: PlatformError): boolean =>
  isNotFound(error) || (error._tag === "SystemError" && errnoCode(error.cause) === "ENOTDIR")

/**
 * The library on local disk under `root`, through @effect/platform's FileSystem.
 * Each write streams into `<name>.part` with a scoped handle and a running sha256,
 * so memory stays flat, an interrupted write leaves only the part for a resume,
 * and a final name only ever appears by rename.
 */
export const layer = (root: string): Layer.Layer<Storage, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(
    Storage,
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const base = path.resolve(root)

      const failWith = (relative: string) => (error: PlatformError) =>
        new StorageError({ path: relative, reason: reasonOf(error) })

      const locate = Effect.fnUntraced(function*(relative: string) {
        const normal = normalizeRelative(relative)
        const absolute = Option.map(normal, (rel) => path.join(base, rel))
        // The second check guards against a platform whose separators differ from POSIX.
        if (Option.isNone(absolute) || !isInside(base, absolute.value)) {
          return yield* new StorageError({ path: relative, reason: "path leaves the library folder" })
        }
        return { final: absolute.value, part: `${absolute.value}.part` }
      })

      const folderError = (relative: string) => (error: PlatformError) =>
        new StorageError({
          path: relative,
          reason: errnoCode(error._tag === "SystemError" ? error.cause : undefined) === "EEXIST"
            ? "a file is in the way of a folder"
            : reasonOf(error)
        })

      /**
       * Node's recursive mkdir answers ENOENT for some faults (a read-only file
       * system among them): making the missing folders one by one tells the truth.
       */
      const makeEachFolder = Effect.fnUntraced(function*(folder: string) {
        const missing: Array<string> = []
        for (let at = folder; !(yield* fs.exists(at)); at = path.dirname(at)) {
          missing.unshift(at)
          if (path.dirname(at) === at) break
        }
        for (const each of missing) yield* fs.makeDirectory(each)
      })

      const ensureFolder = (relative: string, file: string) =>
        fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(
          Effect.catchIf(
            (error) => errnoCode(error._tag === "SystemError" ? error.cause : undefined) === "ENOENT",
            () => makeEachFolder(path.dirname(file))
          ),
          Effect.mapError(folderError(relative))
        )

      /**
       * Size of a file, undefined if it does not exist, told to `answer`. Node's own stat, not the
       * FileSystem's: there a missing file, the usual answer here, costs an exception wrapped in a
       * validated SystemError, about four times the stat itself (150 against 35 µs).
       */
      const statSize = (
        relative: string,
        file: string,
        answer: (size: Either.Either<number | undefined, StorageError>) => void
      ) =>
        NodeFs.stat(file, (error, info) => {
          if (error === null) {
            answer(
              info.isFile()
                ? Either.right(info.size)
                : Either.left(new StorageError({ path: relative, reason: "a folder is in the way" }))
            )
          } else if (error.code === "ENOENT") {
            answer(Either.right(undefined))
          } else {
            const code = error.code ?? "unknown"
            answer(Either.left(new StorageError({ path: relative, reason: reasonOfCode(code) ?? `stat failed (${code})` })))
          }
        })

      /** All the stats at once, answered together: a waiting stat costs a round trip to the thread pool. */
      const sizesOf = (
        files: ReadonlyArray<Either.Either<{ readonly relative: string; readonly file: string }, StorageError>>
      ) =>
        Effect.async<ReadonlyArray<Either.Either<number | undefined, StorageError>>>((resume) => {
          const sizes: Array<Either.Either<number | undefined, StorageError>> = []
          let waiting = files.length
          if (waiting === 0) return resume(Effect.succeed(sizes))
          files.forEach((each, index) => {
            const done = (size: Either.Either<number | undefined, StorageError>) => {
              sizes[index] = size
              if (--waiting === 0) resume(Effect.succeed(sizes))
            }
            if (Either.isLeft(each)) done(Either.left(each.left))
            else statSize(each.right.relative, each.right.file, done)
          })
        })

      const inspect = Effect.fn("Storage.inspect")(function*(relative: string) {
        const at = yield* locate(relative)
        const [finalBytes, partialBytes] = yield* sizesOf([
          Either.right({ relative, file: at.final }),
          Either.right({ relative, file: at.part })
        ])
        return { finalBytes: yield* finalBytes!, partialBytes: (yield* partialBytes!) ?? 0 }
      })

      const finalSizes = Effect.fn("Storage.finalSizes")(function*(relatives: ReadonlyArray<string>) {
        return yield* sizesOf(yield* Effect.forEach(relatives, (relative) =>
          Effect.either(Effect.map(locate(relative), (at) => ({ relative, file: at.final })))
        ))
      })

      /**
       * The bytes went to the file this handle opened: if something deleted or
       * replaced `<name>.part` meanwhile, committing would lose them or put a
       * stranger's file under the final name.
       */
      const checkStillNamed = Effect.fnUntraced(function*(relative: string, part: string, file: FileSystem.File) {
        // Both at once, and the handle's answer first if both fail.
        const [heldOrError, namedOrError] = yield* Effect.all([
          Effect.either(file.stat),
          Effect.either(fs.stat(part).pipe(Effect.asSome, Effect.catchIf(isNotFound, () => Effect.succeedNone)))
        ], { concurrency: 2 })
        const held = yield* Effect.mapError(heldOrError, failWith(relative))
        const named = yield* Effect.mapError(namedOrError, failWith(relative))
        if (Option.isNone(named)) {
          return yield* new StorageError({ path: relative, reason: "its .part file was deleted while being written" })
        }
        const inode = (info: FileSystem.File.Info) => `${info.dev}:${Option.getOrElse(info.ino, () => -1)}`
        if (inode(named.value) !== inode(held)) {
          return yield* new StorageError({ path: relative, reason: "its .part file was replaced while being written" })
        }
      })

      /** Feeds what a resumed part already holds into the hash, through the same handle. */
      const hashExisting = Effect.fnUntraced(function*(file: FileSystem.File, hash: Hash) {
        let bytes = 0
        for (;;) {
          const chunk = yield* file.readAlloc(READ_CHUNK)
          if (Option.isNone(chunk)) return bytes
          hash.update(chunk.value)
          bytes += chunk.value.length
        }
      })

      const write = Effect.fn("Storage.write")(
        function*<E>(relative: string, body: Stream.Stream<Uint8Array, E>, options: { readonly append: boolean }) {
          const at = yield* locate(relative)
          const fail = failWith(relative)
          // Scoped, so interruption closes the handle and leaves the part for a resume.
          const open = fs.open(at.part, { flag: options.append ? "a+" : "w" })
          // The folder is there for all but an album's first track: made only when the open misses it.
          const file = yield* open.pipe(
            Effect.catchIf(isMissingFolder, () => Effect.zipRight(ensureFolder(relative, at.final), open)),
            Effect.mapError((error) => error._tag === "StorageError" ? error : fail(error))
          )
          const hash = createHash("sha256")
          let bytes = options.append ? yield* hashExisting(file, hash).pipe(Effect.mapError(fail)) : 0
          yield* Stream.runForEach(body, (chunk) =>
            file.writeAll(chunk).pipe(
              Effect.mapError(fail),
              Effect.tap(() => {
                hash.update(chunk)
                bytes += chunk.length
              })
            ))
          // Flushed before the caller commits, so a crash cannot leave a short final file.
          yield* file.sync.pipe(Effect.mapError(fail))
          yield* checkStillNamed(relative, at.part, file)
          return { bytes, sha256: hash.digest("hex") }
        },
        Effect.scoped
      )

      const commit = Effect.fn("Storage.commit")(function*(relative: string) {
        const at = yield* locate(relative)
        yield* fs.rename(at.part, at.final).pipe(
          Effect.mapError((error) =>
            new StorageError({
              path: relative,
              reason: isNotFound(error) ? "nothing to commit: no .part file" : reasonOf(error)
            })
          )
        )
      })

      const discard = Effect.fn("Storage.discard")(function*(relative: string) {
        const at = yield* locate(relative)
        yield* fs.remove(at.part, { force: true }).pipe(Effect.mapError(failWith(relative)))
      })

      const copy = Effect.fn("Storage.copy")(function*(from: string, to: string) {
        const source = yield* locate(from)
        const target = yield* locate(to)
        yield* ensureFolder(to, target.final)
        yield* fs.copyFile(source.final, target.part).pipe(
          Effect.mapError((error) =>
            isNotFound(error)
              ? new StorageError({ path: from, reason: "no such file to copy" })
              : failWith(to)(error)
          ),
          Effect.zipRight(fs.rename(target.part, target.final).pipe(Effect.mapError(failWith(to)))),
          // A copy has nothing to resume, so a half-made part is only litter.
          Effect.onError(() => Effect.ignore(fs.remove(target.part, { force: true })))
        )
      })

      return Storage.of({ root: base, inspect, finalSizes, write, commit, discard, copy })
    })
  )
