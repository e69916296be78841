import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Stream from "effect/Stream"
import * as Context from "effect/Context"
import type { StorageError } from "./StorageError.js"

/** What is on disk for one planned path. */
export interface FileState {
  /** Size of the finished file, if there is one. */
  readonly finalBytes: number | undefined
  /** Size of `<name>.part`, 0 if there is none: where a resumed transfer starts. */
  readonly partialBytes: number
}

export interface WriteResult {
  /** Bytes in the `.part` file now, resumed bytes included. */
  readonly bytes: number
  /** Hex sha256 of the whole `.part` file. */
  readonly sha256: string
}

/**
 * The library on disk. Paths are relative to the library root, as planned by
 * `SafePath`; the store refuses any that would leave the root. Data is written to
 * `<name>.part` beside the final name and renamed only when complete.
 */
export class Storage extends Context.Tag("lyra/Storage")<Storage, {
  readonly root: string
  readonly inspect: (path: string) => Effect.Effect<FileState, StorageError>
  /**
   * The sizes of many finished files in one step, each undefined if there is
   * none, or why it could not be looked at.
   */
  readonly finalSizes: (
    paths: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<Either.Either<number | undefined, StorageError>>>
  /** Streams `body` into `<path>.part`, appending when `append` and truncating otherwise. */
  readonly write: <E>(
    path: string,
    body: Stream.Stream<Uint8Array, E>,
    options: { readonly append: boolean }
  ) => Effect.Effect<WriteResult, E | StorageError>
  /** Atomically renames `<path>.part` to `path`. */
  readonly commit: (path: string) => Effect.Effect<void, StorageError>
  /** Removes `<path>.part`, if any. */
  readonly discard: (path: string) => Effect.Effect<void, StorageError>
  /** Copies a finished file to another planned path, atomically. */
  readonly copy: (from: string, to: string) => Effect.Effect<void, StorageError>
}>() {}
