import { existsSync } from "node:fs"
import * as NodePath from "node:path"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { Effect, Layer, Option } from "effect"
import type { CoverArt } from "../domain/Artwork.js"
import { isInside, normalizeRelative } from "../domain/SafePath.js"
import type { TrackTags } from "../domain/TrackTags.js"
import { Storage } from "../services/Storage.js"
import { TagError } from "../services/TagError.js"
import { Tagger } from "../services/Tagger.js"
import { untaggable } from "./tagFormats.js"
import type { TagJob, TagReply } from "./TagWorker.js"

export interface TaggerOptions {
  /** Files tagged at once: the size of the CPU pool (`--cpu`); defaults to the number of cores. */
  readonly threads?: number | undefined
  /**
   * The compiled TagWorker. Found beside this module (or under `layers/` of a
   * bundle) when not given; if there is none, files are tagged on the main
   * thread, `threads` at a time.
   */
  readonly workerScript?: string | URL | undefined
}

export const defaultThreads = (): number => Math.max(1, availableParallelism())

const findWorkerScript = (given: string | URL | undefined): string | undefined => {
  if (given !== undefined) return given instanceof URL ? fileURLToPath(given) : given
  for (const candidate of ["./TagWorker.js", "./layers/TagWorker.js", "../layers/TagWorker.js"]) {
    const url = new URL(candidate, import.meta.url)
    if (url.protocol === "file:" && existsSync(url)) return fileURLToPath(url)
  }
  return undefined
}

interface PooledWorker {
  readonly worker: Worker
  /** Answers for the job in flight; a worker runs one job at a time. */
  pending: ((reply: TagReply) => void) | undefined
}

/**
 * Up to `size` worker threads, started when first needed and ended with the
 * layer's scope. A job whose fiber is interrupted ends its thread (the copy it
 * was tagging is left aside, never the file itself); a new one starts on demand.
 */
const makePool = (script: string, size: number) =>
  Effect.gen(function*() {
    const idle: Array<PooledWorker> = []
    const all = new Set<PooledWorker>()
    const slots = yield* Effect.makeSemaphore(size)
    let nextId = 0

    const retire = (pooled: PooledWorker) => {
      all.delete(pooled)
      const index = idle.indexOf(pooled)
      if (index !== -1) idle.splice(index, 1)
      void pooled.worker.terminate()
    }

    const spawn = (): PooledWorker => {
      const pooled: PooledWorker = { worker: new Worker(script), pending: undefined }
      pooled.worker.unref()
      pooled.worker.on("message", (reply: TagReply) => pooled.pending?.(reply))
      pooled.worker.on("error", (error) => {
        pooled.pending?.({ id: -1, error: `tagging thread failed: ${error.message}` })
        retire(pooled)
      })
      all.add(pooled)
      return pooled
    }

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...all].map((pooled) => pooled.worker.terminate()))).pipe(Effect.ignore)
    )

    const run = (job: Omit<TagJob, "id">): Effect.Effect<TagReply> =>
      slots.withPermits(1)(
        Effect.suspend(() => {
          const pooled = idle.pop() ?? spawn()
          const id = nextId++
          return Effect.async<TagReply>((resume) => {
            pooled.pending = (reply) => {
              pooled.pending = undefined
              if (all.has(pooled)) idle.push(pooled)
              resume(Effect.succeed(reply))
            }
            pooled.worker.postMessage({ ...job, id } satisfies TagJob)
            return Effect.sync(() => {
              pooled.pending = undefined
              retire(pooled)
            })
          })
        })
      )
    return run
  })

/** Tags on the calling thread, `size` at a time: for when there is no compiled worker (tests run from sources). */
const makeInThread = (size: number) =>
  Effect.gen(function*() {
    // Loaded only here: the CLI tags on worker threads and never pays for node-taglib-sharp itself.
    const { tagFile } = yield* Effect.promise(() => import("./tagFile.js"))
    const slots = yield* Effect.makeSemaphore(size)
    return (job: Omit<TagJob, "id">): Effect.Effect<TagReply> =>
    slots.withPermits(1)(Effect.sync((): TagReply => {
      try {
        return { id: 0, error: undefined, ...tagFile(job.path, job.tags, job.cover) }
      } catch (error) {
        return { id: 0, error: error instanceof Error ? error.message : String(error) }
      }
    }))
  })

/**
 * Tags files of the Storage's library with node-taglib-sharp, on a pool of
 * worker threads so that tagging never stalls the fibers moving bytes.
 */
export const layer = (options: TaggerOptions = {}): Layer.Layer<Tagger, never, Storage> =>
  Layer.scoped(
    Tagger,
    Effect.gen(function*() {
      const storage = yield* Storage
      const size = Math.max(1, options.threads ?? defaultThreads())
      const script = findWorkerScript(options.workerScript)
      const run = script === undefined ? yield* makeInThread(size) : yield* makePool(script, size)

      const locate = (relative: string): string | undefined => {
        const normal = normalizeRelative(relative)
        if (Option.isNone(normal)) return undefined
        const absolute = NodePath.join(storage.root, normal.value)
        return isInside(storage.root, absolute) ? absolute : undefined
      }

      const write = Effect.fn("Tagger.write")(
        function*(path: string, tags: TrackTags, cover: CoverArt | undefined) {
          const absolute = locate(path)
          if (absolute === undefined) return yield* new TagError({ path, reason: "path leaves the library folder" })
          const refused = untaggable(path)
          if (refused !== undefined) return yield* new TagError({ path, reason: refused })
          const reply = yield* run({ path: absolute, tags, cover })
          if (reply.error !== undefined) return yield* new TagError({ path, reason: reply.error })
          return reply.bytes === undefined || reply.sha256 === undefined
            ? undefined
            : { bytes: reply.bytes, sha256: reply.sha256 }
        }
      )
      return Tagger.of({ write })
    })
  )
