import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { normalizeRelative } from "../domain/SafePath.js"
import { StorageMemory } from "../layers/StorageMemory.js"
import { Storage } from "../services/Storage.js"
import { StorageError } from "../services/StorageError.js"

/** What a simulated library holds: sizes by path, `.part` files included. */
export interface Tally {
  readonly sizes: ReadonlyMap<string, number>
}

/** The sha256 a tally reports: it keeps no bytes, so it cannot hash them (simulated sources name no checksum). */
export const unhashed = "0".repeat(64)

const partOf = (path: string): string => `${path}.part`

/** Runs a stream chunk by chunk, counting its bytes: pulling is the cheapest way to run one, and a simulation runs one per track. */
const drain = <E>(body: Stream.Stream<Uint8Array, E>, count: (bytes: number) => void): Effect.Effect<void, E> =>
  Effect.scoped(Effect.flatMap(Stream.toPull(body), (pull) => {
    const loop: Effect.Effect<void, E> = Effect.matchEffect(pull, {
      onFailure: Option.match({ onNone: () => Effect.void, onSome: (error: E) => Effect.fail(error) }),
      onSuccess: (chunks) => {
        let bytes = 0
        for (const chunk of chunks) bytes += chunk.length
        count(bytes)
        return loop
      }
    })
    return loop
  }))

/**
 * A library that keeps only file sizes: the same `.part` naming, atomic commit
 * and containment refusal as the real stores, with none of the bytes. A
 * 100,000-track simulation stays in a few megabytes and never hashes a byte.
 */
export const make = (): Effect.Effect<{ readonly storage: Storage["Type"]; readonly tally: Tally }> =>
  Effect.sync(() => {
    // Mutated only inside Effect.sync, so every step is atomic between fibers.
    const sizes = new Map<string, number>()

    const locate = (relative: string) =>
      Option.match(normalizeRelative(relative), {
        onNone: () => Effect.fail(new StorageError({ path: relative, reason: "path leaves the library folder" })),
        onSome: (path) => Effect.succeed(path)
      })

    const storage = Storage.of({
      root: "simulation:",
      inspect: (relative) =>
        Effect.map(locate(relative), (path) => ({ finalBytes: sizes.get(path), partialBytes: sizes.get(partOf(path)) ?? 0 })),
      finalSizes: (relatives) =>
        Effect.forEach(relatives, (relative) => Effect.either(Effect.map(locate(relative), (path) => sizes.get(path)))),
      write: (relative, body, options) =>
        Effect.flatMap(locate(relative), (path) => {
          const part = partOf(path)
          return Effect.suspend(() => {
            if (!options.append || !sizes.has(part)) sizes.set(part, 0)
            return Effect.map(
              drain(body, (bytes) => sizes.set(part, (sizes.get(part) ?? 0) + bytes)),
              () => ({ bytes: sizes.get(part) ?? 0, sha256: unhashed })
            )
          })
        }),
      commit: (relative) =>
        Effect.flatMap(locate(relative), (path) =>
          Effect.suspend(() => {
            const size = sizes.get(partOf(path))
            if (size === undefined) {
              return Effect.fail(new StorageError({ path: relative, reason: "nothing to commit: no .part file" }))
            }
            sizes.delete(partOf(path))
            sizes.set(path, size)
            return Effect.void
          })),
      discard: (relative) => Effect.flatMap(locate(relative), (path) => Effect.sync(() => void sizes.delete(partOf(path)))),
      copy: (from, to) =>
        Effect.flatMap(Effect.all([locate(from), locate(to)]), ([source, target]) =>
          Effect.suspend(() => {
            const size = sizes.get(source)
            if (size === undefined) return Effect.fail(new StorageError({ path: from, reason: "no such file to copy" }))
            sizes.set(target, size)
            return Effect.void
          }))
    })
    return { storage, tally: { sizes } }
  })

/**
 * Storage as a tally of sizes, with StorageMemory showing each file as that
 * many zero bytes (what a virtual payload is made of), for tests to read back.
 */
export const layer: Layer.Layer<Storage | StorageMemory> = Layer.effectContext(
  Effect.map(make(), ({ storage, tally }) =>
    Context.make(Storage, storage).pipe(
      Context.add(StorageMemory, {
        files: Effect.sync(() => new Map([...tally.sizes].map(([path, size]) => [path, new Uint8Array(size)])))
      })
    ))
)
