import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import type * as WorkerThreads from "node:worker_threads"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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
   * The compiled TagWorker. Found beside this module (the bundle's, or the
   * compiled one) when not given; if there is none, files are tagged on the
   * main thread, `threads` at a time.
   */
  readonly workerScript?: string | URL | undefined
}

/** How long a job waits for a busy thread before the pool starts another. */
export const defaultGrowAfter = Duration.seconds(1)

export const defaultThreads = (): number => Math.max(1, availableParallelism())

const findWorkerScript = (given: string | URL | undefined): string | undefined => {
  if (given !== undefined) return given instanceof URL ? fileURLToPath(given) : given
  // The bundle's own (TagWorker.cjs, node-taglib-sharp inside) before the compiled module.
  for (const candidate of ["./TagWorker.cjs", "./TagWorker.js", "./layers/TagWorker.js", "../layers/TagWorker.js"]) {
    const url = new URL(candidate, import.meta.url)
    if (url.protocol === "file:" && existsSync(url)) return fileURLToPath(url)
  }
  return undefined
}

interface PooledWorker {
  readonly worker: WorkerThreads.Worker
  /** Answers for the job in flight; a worker runs one job at a time. */
  pending: ((reply: TagReply) => void) | undefined
}

/**
 * Up to `size` worker threads, ended with the layer's scope. The first starts
 * with the first job; another starts only when a job has waited `growAfter`
 * for a busy thread, so bursts and light tagging cost one thread (each holds
 * its own heap and node-taglib-sharp, about 25 MB) and a lasting backlog grows
 * the pool to `size`. A job whose fiber is interrupted ends its thread (the copy
 * it was tagging is left aside, never the file itself).
 */
export const makePool = (
  script: string | URL,
  size: number,
  options: { readonly growAfter?: Duration.DurationInput; readonly worker?: WorkerThreads.WorkerOptions } = {}
) =>
  Effect.gen(function*() {
    const idle: Array<PooledWorker> = []
    const all = new Set<PooledWorker>()
    /** Jobs waiting for a thread, first come first served. */
    const waiting: Array<(pooled: PooledWorker) => void> = []
    let nextId = 0

    const spawn = (): PooledWorker => {
      // Loaded with the first thread: worker_threads took 3-4 ms of every start, `--version` and no-op runs included.
      const { Worker } = createRequire(import.meta.url)("node:worker_threads") as typeof WorkerThreads
      const pooled: PooledWorker = { worker: new Worker(script, options.worker), pending: undefined }
      pooled.worker.unref()
      pooled.worker.on("message", (reply: TagReply) => pooled.pending?.(reply))
      pooled.worker.on("error", (error) => {
        // Retired first, so that answering its job cannot hand the dead thread to the next one.
        const pending = pooled.pending
        retire(pooled)
        pending?.({ id: -1, error: `tagging thread failed: ${error.message}` })
      })
      all.add(pooled)
      return pooled
    }

    /** A thread that finished its job goes to the longest waiting job, or back to the idle ones. */
    const release = (pooled: PooledWorker) => {
      if (!all.has(pooled)) return
      const next = waiting.shift()
      if (next === undefined) idle.push(pooled)
      else next(pooled)
    }

    /** Ends a thread; a job that was waiting for it gets a new one. */
    const retire = (pooled: PooledWorker) => {
      all.delete(pooled)
      const index = idle.indexOf(pooled)
      if (index !== -1) idle.splice(index, 1)
      void pooled.worker.terminate()
      const next = waiting.length > 0 && all.size < size ? waiting.shift() : undefined
      next?.(spawn())
    }

    // Asked to stop, not waited for (two threads take about 19 ms): they run no more jobs, and are unref'd.
    yield* Effect.addFinalizer(() => Effect.sync(() => [...all].forEach((pooled) => void pooled.worker.terminate())))

    /** Waits for a busy thread to finish its job. */
    const handOver = Effect.async<PooledWorker>((resume) => {
      let handed: PooledWorker | undefined
      const take = (pooled: PooledWorker) => {
        handed = pooled
        resume(Effect.succeed(pooled))
      }
      waiting.push(take)
      return Effect.sync(() => {
        const index = waiting.indexOf(take)
        if (index !== -1) waiting.splice(index, 1)
        // Interrupted just as a thread was handed over: pass it on rather than lose it.
        if (handed !== undefined) release(handed)
      })
    })
    const grow = Effect.zipRight(
      Effect.sleep(options.growAfter ?? defaultGrowAfter),
      Effect.suspend(() => all.size < size ? Effect.sync(spawn) : Effect.never)
    )
    /** The race's loser may hold a thread already: it goes to the next job. */
    const settle = (winner: Exit.Exit<PooledWorker>, loser: Fiber.Fiber<PooledWorker>) =>
      Fiber.interrupt(loser).pipe(
        Effect.flatMap((exit) => Exit.isSuccess(exit) ? Effect.sync(() => release(exit.value)) : Effect.void),
        Effect.zipRight(winner)
      )

    const acquire: Effect.Effect<PooledWorker> = Effect.suspend(() => {
      const ready = idle.pop()
      if (ready !== undefined) return Effect.succeed(ready)
      if (all.size === 0) return Effect.sync(spawn)
      return all.size >= size ? handOver : Effect.raceWith(handOver, grow, { onSelfDone: settle, onOtherDone: settle })
    })

    const run = (job: Omit<TagJob, "id">): Effect.Effect<TagReply> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(acquire), (pooled) => {
          const id = nextId++
          return restore(Effect.async<TagReply>((resume) => {
            pooled.pending = (reply) => {
              pooled.pending = undefined
              release(pooled)
              resume(Effect.succeed(reply))
            }
            pooled.worker.postMessage({ ...job, id } satisfies TagJob)
            return Effect.sync(() => {
              pooled.pending = undefined
              retire(pooled)
            })
          }))
        })
      )
    return { run, threads: () => all.size }
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
      const run = script === undefined ? yield* makeInThread(size) : (yield* makePool(script, size)).run

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
