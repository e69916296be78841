/**
 * One download job of the real engine (the subsonic provider over the live
 * HTTP client) against a base URL (the fault proxy's), and the verdict on
 * every track: intact, failed with a reason, corrupt or hung. Shared by
 * test/faults.test.ts, bench/faults.ts and scripts/soak.ts.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { defaultJobSettings } from "../../src/domain/JobSettings.js"
import type { LimitSettings } from "../../src/domain/LimitSettings.js"
import type { ProgressEvent } from "../../src/domain/ProgressEvent.js"
import * as EngineLayer from "../../src/layers/EngineLayer.js"
import * as HttpClientLive from "../../src/layers/HttpClientLive.js"
import type { TransportTimeouts } from "../../src/layers/HttpTransportLive.js"
import * as HttpTransportLive from "../../src/layers/HttpTransportLive.js"
import { ProgressRecorder } from "../../src/layers/ProgressRecorder.js"
import * as ProgressRecorderLayer from "../../src/layers/ProgressRecorder.js"
import * as StorageLive from "../../src/layers/StorageLive.js"
import * as StorageMemory from "../../src/layers/StorageMemory.js"
import type { SubsonicClientOptions } from "../../src/layers/subsonic/SubsonicClient.js"
import type { JobReport } from "../../src/programs/JobReport.js"
import { download } from "../../src/programs/download.js"
import type { RetryPolicy } from "../../src/services/RetryPolicy.js"
import { subsonicRegistry } from "../subsonicServer.js"

export interface FaultRunSettings {
  readonly transport: TransportTimeouts
  readonly client: SubsonicClientOptions
  readonly retry: RetryPolicy["Type"]
  readonly limits?: LimitSettings
  /** Where the library goes: in memory, or a folder on disk. */
  readonly library: { readonly _tag: "Memory" } | { readonly _tag: "Disk"; readonly root: string }
}

/**
 * The benchmark's and the soak's settings: a stall costs half a second, retries
 * as the CLI's default, a library on disk. A fixed pace unless `adaptive`:
 * random 429s and 503s say nothing of the catalog's capacity.
 */
export const onDiskSettings = (root: string, adaptive = false): FaultRunSettings => ({
  transport: {
    response: Duration.seconds(2),
    stall: Duration.millis(500),
    lowSpeed: { bytes: 8 * 1024, window: Duration.seconds(1) }
  },
  client: { answerTimeout: Duration.seconds(1), maxAnswerBytes: 1024 * 1024 },
  retry: { retries: 5, baseDelay: Duration.millis(50), maxDelay: Duration.seconds(1) },
  library: { _tag: "Disk", root },
  ...(adaptive ? {} : { limits: { apiConcurrency: 10, rate: { perSecond: 100, burst: 20 } } })
})

/** Small timeouts, so that a stall costs a fraction of a second. */
export const fastSettings: FaultRunSettings = {
  transport: {
    response: Duration.seconds(2),
    stall: Duration.millis(400),
    lowSpeed: { bytes: 8 * 1024, window: Duration.millis(800) }
  },
  client: { answerTimeout: Duration.seconds(2), maxAnswerBytes: 256 * 1024 },
  retry: { retries: 4, baseDelay: Duration.millis(20), maxDelay: Duration.millis(200) },
  library: { _tag: "Memory" }
}

export interface JobRun {
  /** Undefined when the job had not ended by the deadline (it was interrupted there), or failed. */
  readonly report: JobReport | undefined
  /** Why the job itself failed (a bad input, the state store), if it did. */
  readonly failure?: string
  readonly events: ReadonlyArray<ProgressEvent>
  /** Every file of the library, `.part` files included, by path under its root. */
  readonly files: ReadonlyMap<string, Uint8Array>
}

/** Every file under `root`, by relative path. */
const readTree = (root: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files = new Map<string, Uint8Array>()
    if (!(yield* fs.exists(root))) return files
    for (const path of yield* fs.readDirectory(root, { recursive: true })) {
      const info = yield* fs.stat(`${root}/${path}`)
      if (info.type === "File") files.set(path, yield* fs.readFile(`${root}/${path}`))
    }
    return files
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

/** The engine for the subsonic server at `base`, recording every event. */
const engineFor = (base: string, settings: FaultRunSettings) => {
  const http = HttpClientLive.layer()
  const registry = subsonicRegistry(base, http, settings.client)
  // On disk, the files are read back from the folder instead.
  const storage = settings.library._tag === "Memory"
    ? StorageMemory.layer()
    : StorageLive.layer(settings.library.root).pipe(
      Layer.provide(NodeContext.layer),
      Layer.merge(Layer.succeed(StorageMemory.StorageMemory, { files: Effect.succeed(new Map()) }))
    )
  return EngineLayer.make({
    providers: registry,
    storage,
    progress: ProgressRecorderLayer.layer,
    transport: HttpTransportLive.layerWith(settings.transport).pipe(Layer.provide(http)),
    retry: settings.retry,
    limits: settings.limits
  }).pipe(Layer.merge(storage), Layer.provideMerge(ProgressRecorderLayer.layer))
}

/**
 * Downloads `refs` from `base`. A job that has not ended within `deadline`
 * (there only to catch a hang) is interrupted there, and has no report: the
 * tracks it never finished are the hung ones.
 */
export const runJob = (
  base: string,
  refs: ReadonlyArray<string>,
  settings: FaultRunSettings = fastSettings,
  deadline: Duration.DurationInput = Duration.minutes(2)
): Effect.Effect<JobRun> =>
  Effect.gen(function*() {
    const ran = yield* Effect.gen(function*() {
      const ended = yield* download(refs, defaultJobSettings).pipe(
        Effect.timeoutFail({ duration: deadline, onTimeout: () => "hung" as const }),
        Effect.either
      )
      const events = yield* (yield* ProgressRecorder).events
      const files = yield* (yield* StorageMemory.StorageMemory).files
      return ended._tag === "Right"
        ? { report: ended.right, events, files }
        : ended.left === "hung"
        ? { report: undefined, events, files }
        : { report: undefined, failure: ended.left.message, events, files }
    }).pipe(Effect.provide(engineFor(base, settings)))
    const files = settings.library._tag === "Memory" ? ran.files : yield* readTree(settings.library.root)
    return { ...ran, files }
  }).pipe(Effect.orDie)

export type Outcome = "intact" | "failed" | "corrupt" | "hung"

export interface TrackVerdict {
  readonly outcome: Outcome
  /** Why a track failed, or what is wrong with a corrupt one. */
  readonly reason?: string
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

type Finished = Extract<ProgressEvent, { readonly _tag: "ItemFinished" }>
type Queued = Extract<ProgressEvent, { readonly _tag: "ItemQueued" }>

/**
 * The verdict on each of `tracks` (album id and track id, with the sha256 its
 * file must have) after `run`:
 * - intact: done, and the file at its path holds exactly the expected bytes;
 * - failed: failed with a one-line reason, and no final file of it is in the
 *   library (the track, or the album that lists it);
 * - corrupt: anything else that left a file, or a failure without a reason;
 * - hung: the job never said how the track ended.
 * `strays` are final files no intact track accounts for: each one is corrupt.
 */
export const verdicts = (
  run: JobRun,
  tracks: ReadonlyArray<{ readonly album: string; readonly id: string; readonly sha256: string }>
) => {
  const queued = new Map<string, Queued>()
  const finished = new Map<string, Finished>()
  for (const event of run.events) {
    if (event._tag === "ItemQueued") queued.set(event.item, event)
    if (event._tag === "ItemFinished") finished.set(event.item, event)
  }
  const itemOf = (kind: string, id: string) =>
    [...queued.values()].find((q) => q.kind === kind && (q.item.endsWith(`:${kind}:${id}`) || q.label.endsWith(id)))
      ?.item
  const finals = new Map([...run.files].filter(([path]) => !path.endsWith(".part")))
  const claimed = new Set<string>()
  const byTrack = new Map<string, TrackVerdict>()
  const oneLine = (reason: string | undefined) => reason !== undefined && reason !== "" && !reason.includes("\n")
  for (const track of tracks) {
    const item = itemOf("track", track.id)
    const end = item === undefined ? undefined : finished.get(item)
    const albumItem = itemOf("album", track.album)
    const albumEnd = albumItem === undefined ? undefined : finished.get(albumItem)
    if (end === undefined) {
      // Never queued: its album must have failed, saying why.
      if (item === undefined && albumEnd?.state === "failed") {
        byTrack.set(
          track.id,
          oneLine(albumEnd.reason)
            ? { outcome: "failed", reason: albumEnd.reason! }
            : { outcome: "corrupt", reason: "album failed without a one-line reason" }
        )
      } else {
        byTrack.set(track.id, { outcome: "hung" })
      }
      continue
    }
    if (end.state === "done") {
      const path = end.path ?? ""
      const bytes = finals.get(path)
      claimed.add(path)
      byTrack.set(
        track.id,
        bytes !== undefined && sha256(bytes) === track.sha256
          ? { outcome: "intact" }
          : { outcome: "corrupt", reason: bytes === undefined ? `no file at ${path}` : `${path} differs` }
      )
    } else if (end.state === "failed") {
      byTrack.set(
        track.id,
        oneLine(end.reason)
          ? { outcome: "failed", reason: end.reason! }
          : { outcome: "corrupt", reason: "failed without a one-line reason" }
      )
    } else {
      byTrack.set(track.id, { outcome: "corrupt", reason: `silently ${end.state}` })
    }
  }
  const strays = [...finals.keys()].filter((path) => !claimed.has(path) && path.endsWith(".flac"))
  return { byTrack, strays }
}
