import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { normalizeRelative } from "../domain/SafePath.js"
import { Storage } from "../services/Storage.js"
import { StorageError } from "../services/StorageError.js"

export interface StorageMemoryOptions {
  /** Shown as `Storage.root`; nothing is read from it. */
  readonly root?: string
  /** Total bytes the store holds before writes fail with "disk full". */
  readonly capacityBytes?: number
}

/**
 * The library in memory, for tests and `lyra simulate`: the same `.part`
 * naming, containment refusal and file-versus-folder clashes as the disk
 * store. `files` shows what is stored, parts included, keyed by relative path.
 */
export class StorageMemory extends Context.Tag("lyra/StorageMemory")<StorageMemory, {
  readonly files: Effect.Effect<ReadonlyMap<string, Uint8Array>>
}>() {}

/** A file kept as the chunks it was written in, so appending never copies. */
interface Entry {
  readonly chunks: Array<Uint8Array>
  size: number
}

const concat = (entry: Entry): Uint8Array => {
  const out = new Uint8Array(entry.size)
  let offset = 0
  for (const chunk of entry.chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

const partOf = (path: string): string => `${path}.part`

export const make = (options: StorageMemoryOptions = {}): Effect.Effect<{
  readonly storage: Context.Tag.Service<Storage>
  readonly files: Effect.Effect<ReadonlyMap<string, Uint8Array>>
}> =>
  Effect.sync(() => {
    // Mutated only inside Effect.sync, so every step is atomic between fibers.
    const entries = new Map<string, Entry>()
    const capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY
    const fits = (bytes: number) => capacity === Number.POSITIVE_INFINITY || used() + bytes <= capacity
    const used = () => {
      let total = 0
      for (const entry of entries.values()) total += entry.size
      return total
    }

    const locate = (relative: string) =>
      Option.match(normalizeRelative(relative), {
        onNone: () => Effect.fail(new StorageError({ path: relative, reason: "path leaves the library folder" })),
        onSome: (path) => Effect.succeed(path)
      })

    /** The disk store's ENOTDIR and EISDIR, for a store without real folders. */
    const clash = (path: string): string | undefined => {
      const parts = path.split("/")
      for (let i = 1; i < parts.length; i++) {
        if (entries.has(parts.slice(0, i).join("/"))) return "a parent of this path is a file, not a folder"
      }
      for (const key of entries.keys()) {
        if (key.startsWith(`${path}/`)) return "a folder is in the way"
      }
      return undefined
    }

    const checkClash = (relative: string, path: string) =>
      Effect.suspend(() => {
        const reason = clash(path)
        return reason === undefined ? Effect.void : Effect.fail(new StorageError({ path: relative, reason }))
      })

    const inspect = Effect.fn("Storage.inspect")(function*(relative: string) {
      const path = yield* locate(relative)
      return yield* Effect.sync(() => ({
        finalBytes: entries.get(path)?.size,
        partialBytes: entries.get(partOf(path))?.size ?? 0
      }))
    })

    const finalSizes = (relatives: ReadonlyArray<string>) =>
      Effect.forEach(relatives, (relative) => Effect.either(Effect.map(locate(relative), (path) => entries.get(path)?.size)))

    const write = Effect.fn("Storage.write")(
      function*<E>(relative: string, body: Stream.Stream<Uint8Array, E>, options: { readonly append: boolean }) {
        const path = yield* locate(relative)
        const part = partOf(path)
        yield* checkClash(relative, part)
        const hash = createHash("sha256")
        const entry = yield* Effect.sync(() => {
          const existing = entries.get(part)
          const next: Entry = options.append && existing !== undefined ? existing : { chunks: [], size: 0 }
          for (const chunk of next.chunks) hash.update(chunk)
          entries.set(part, next)
          return next
        })
        yield* Stream.runForEach(body, (chunk) =>
          Effect.suspend(() => {
            if (!fits(chunk.length)) {
              return Effect.fail(new StorageError({ path: relative, reason: "disk full" }))
            }
            // A copy (Buffer#slice would share), so a producer reusing its buffer cannot change stored bytes.
            entry.chunks.push(new Uint8Array(chunk))
            entry.size += chunk.length
            hash.update(chunk)
            return Effect.void
          }))
        return { bytes: entry.size, sha256: hash.digest("hex") }
      }
    )

    const commit = Effect.fn("Storage.commit")(function*(relative: string) {
      const path = yield* locate(relative)
      yield* checkClash(relative, path)
      yield* Effect.suspend(() => {
        const entry = entries.get(partOf(path))
        if (entry === undefined) {
          return Effect.fail(new StorageError({ path: relative, reason: "nothing to commit: no .part file" }))
        }
        entries.delete(partOf(path))
        entries.set(path, entry)
        return Effect.void
      })
    })

    const discard = Effect.fn("Storage.discard")(function*(relative: string) {
      const path = yield* locate(relative)
      yield* Effect.sync(() => entries.delete(partOf(path)))
    })

    const copy = Effect.fn("Storage.copy")(function*(from: string, to: string) {
      const source = yield* locate(from)
      const target = yield* locate(to)
      yield* checkClash(to, target)
      yield* Effect.suspend(() => {
        const entry = entries.get(source)
        if (entry === undefined) return Effect.fail(new StorageError({ path: from, reason: "no such file to copy" }))
        if (!fits(entry.size)) return Effect.fail(new StorageError({ path: to, reason: "disk full" }))
        // Stored chunks are never mutated, so the copy may share them.
        entries.set(target, { chunks: [...entry.chunks], size: entry.size })
        return Effect.void
      })
    })

    const files = Effect.sync((): ReadonlyMap<string, Uint8Array> =>
      new Map(Array.from(entries, ([path, entry]) => [path, concat(entry)]))
    )

    const storage = Storage.of({ root: options.root ?? "memory:", inspect, finalSizes, write, commit, discard, copy })
    return { storage, files }
  })

/** Provides Storage, and StorageMemory to look at what was stored. */
export const layer = (options: StorageMemoryOptions = {}): Layer.Layer<Storage | StorageMemory> =>
  Layer.effectContext(
    Effect.map(make(options), ({ files, storage }) =>
      Context.make(Storage, storage).pipe(Context.add(StorageMemory, StorageMemory.of({ files }))))
  )
