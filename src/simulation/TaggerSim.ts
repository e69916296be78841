import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Tagger } from "../services/Tagger.js"

export interface TaggerSimOptions {
  /** Virtual CPU time tagging one file takes (default 0). */
  readonly costMillis?: number
  /** Files tagged at once, as `--cpu` sets for the real tagger (default 2). */
  readonly threads?: number
}

/**
 * The tagger of a simulation: it writes nothing, and takes `costMillis` of
 * virtual time per file in a pool of `threads`, as the real one takes CPU time
 * in its own pool. With it the download program post-processes every track as
 * `lyra download` does: it fetches each album's cover and each track's lyrics
 * from the service, which counts against the service's limits.
 */
export const layer = (options: TaggerSimOptions = {}): Layer.Layer<Tagger> =>
  Layer.effect(
    Tagger,
    Effect.gen(function*() {
      const cost = Math.max(0, options.costMillis ?? 0)
      const pool = yield* Effect.makeSemaphore(Math.max(1, options.threads ?? 2))
      return Tagger.of({
        write: () => cost > 0 ? pool.withPermits(1)(Effect.as(Effect.sleep(cost), undefined)) : Effect.succeed(undefined)
      })
    })
  )
