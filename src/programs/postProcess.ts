import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { CoverArt } from "../domain/Artwork.js"
import { imageMimeType } from "../domain/Artwork.js"
import { planPath } from "../domain/SafePath.js"
import type { Settings } from "../domain/Settings.js"
import { defaultSettings } from "../domain/Settings.js"
import type { Track } from "../domain/Track.js"
import { tagsOf } from "../domain/TrackTags.js"
import { retryingWithProgress } from "../engine/retrying.js"
import { JobStore } from "../services/JobStore.js"
import { MusicApi } from "../services/MusicApi.js"
import { InvalidError } from "../services/MusicApiError.js"
import { Progress } from "../services/Progress.js"
import { RetryPolicy } from "../services/RetryPolicy.js"
import { Storage } from "../services/Storage.js"
import { Tagger } from "../services/Tagger.js"
import { Transport } from "../services/Transport.js"
import type { Job } from "./Job.js"
import type { TrackOutcome } from "./TrackOutcome.js"

/** A cover larger than this is not a cover. */
const maxCoverBytes = 32 * 1024 * 1024

/** A fetched cover, or why there is none. */
type CoverResult = { readonly art: CoverArt } | { readonly problem: string } | undefined

/**
 * The covers of one group (an album, a playlist, a single): each album's cover
 * is fetched once per resolution however many of the group's tracks ask for it
 * at once, and kept only while the group runs.
 */
export interface GroupArt {
  /**
   * The cover of the track's album, about `resolution` pixels square. With
   * `saveAs`, a folder's cover file instead: saved once, with the cover of the
   * first track to ask for it.
   */
  readonly cover: (track: Track, resolution: number, saveAs?: string) => Effect.Effect<CoverResult>
}

/** What post-processing needs to know of a placement. */
export interface TrackLibrary {
  readonly art: GroupArt
  /** The album's folder, where `cover.jpg` goes with `save_external`. */
  readonly albumFolder?: ReadonlyArray<string> | undefined
}

const settingsOf = (job: Job): Settings => job.settings.library ?? defaultSettings

const messageOf = (error: { readonly message: string }) => error.message

/** Streams a cover's bytes whole, under the provider's retry policy. */
const fetchCover = Effect.fnUntraced(function*(track: Track, resolution: number) {
  const api = yield* MusicApi
  const transport = yield* Transport
  const policy = yield* RetryPolicy
  const progress = yield* Progress
  const source = yield* api.cover(track, resolution)
  if (source === undefined) return undefined
  const body = source.body
  const bytes = yield* Effect.gen(function*() {
    const opened = yield* (body._tag === "StreamBody" ? body.open(0) : transport.open(track.provider, body, 0))
    const chunks: Array<Uint8Array> = []
    let total = 0
    yield* Stream.runForEach(opened.bytes, (chunk) => {
      total += chunk.length
      if (total > maxCoverBytes) {
        return new InvalidError({ provider: track.provider, reason: "a cover larger than 32 MiB" })
      }
      chunks.push(chunk)
      return Effect.void
    })
    return Buffer.concat(chunks)
  }).pipe(
    Effect.scoped,
    retryingWithProgress(policy, progress, track.provider, `cover of ${track.provider}:album:${track.albumId ?? "?"}`)
  )
  return { bytes: new Uint8Array(bytes), mimeType: imageMimeType(bytes, source.mimeType) } satisfies CoverArt
})

/** Writes a small file (a cover, lyrics) unless one is already there; atomically, as Storage writes. */
const writeSmall = Effect.fnUntraced(function*(path: string, bytes: Uint8Array) {
  const storage = yield* Storage
  const existing = yield* storage.inspect(path)
  if (existing.finalBytes !== undefined) return
  yield* storage.write(path, Stream.make(bytes), { append: false })
  yield* storage.commit(path)
})

/** A group's cover cache; see GroupArt. */
export const makeGroupArt =
  Effect.gen(function*() {
    const context = yield* Effect.context<MusicApi | Transport | RetryPolicy | Progress | Storage>()
    // The first track to ask for an album's cover is the one it is fetched for.
    const tracks = new Map<string, Track>()
    const fetchOnce = yield* Effect.cachedFunction((key: { readonly album: string; readonly resolution: number }) =>
      fetchCover(tracks.get(key.album)!, key.resolution).pipe(
        Effect.map((art): CoverResult => art === undefined ? undefined : { art }),
        Effect.catchAll((error) => Effect.succeed<CoverResult>({ problem: messageOf(error) })),
        Effect.provide(context)
      )
    )
    // A folder's cover.jpg is written once, with the cover of the first track to ask for it: the
    // tracks of a compilation belong to several albums, and they must not race to one file.
    const folderAlbums = new Map<string, string>()
    const saveOnce = yield* Effect.cachedFunction((key: { readonly saveAs: string; readonly resolution: number }) =>
      fetchOnce(Data.struct({ album: folderAlbums.get(key.saveAs)!, resolution: key.resolution })).pipe(
        Effect.flatMap((result) => {
          if (result === undefined || "problem" in result) return Effect.succeed(result)
          // A PNG is saved as what it is: `cover.png`.
          const path = result.art.mimeType === "image/png" ? key.saveAs.replace(/\.jpg$/, ".png") : key.saveAs
          return writeSmall(path, result.art.bytes).pipe(
            Effect.as(result),
            Effect.catchAll((error) => Effect.succeed<CoverResult>({ problem: messageOf(error) }))
          )
        }),
        Effect.provide(context)
      )
    )
    return {
      cover: (track, resolution, saveAs) =>
        Effect.suspend(() => {
          const album = `${track.provider}:album:${track.albumId ?? track.album}`
          if (!tracks.has(album)) tracks.set(album, track)
          if (saveAs === undefined) return fetchOnce(Data.struct({ album, resolution }))
          if (!folderAlbums.has(saveAs)) folderAlbums.set(saveAs, album)
          return saveOnce(Data.struct({ saveAs, resolution }))
        })
    } satisfies GroupArt
  })

/** Where `save_external` puts the placement's album cover; none outside an album folder. */
const coverFile = (settings: Settings, library: TrackLibrary | undefined) =>
  settings.saveExternal && library?.albumFolder !== undefined
    ? planPath([...library.albumFolder, "cover"], "jpg")
    : undefined

const lrcPath = (path: string) => `${path.slice(0, path.lastIndexOf("/") + 1)}${stemOf(path)}.lrc`

const stemOf = (path: string) => {
  const name = path.slice(path.lastIndexOf("/") + 1)
  const dot = name.lastIndexOf(".")
  return dot <= 0 ? name : name.slice(0, dot)
}

/**
 * Finishes a downloaded track the way OrpheusDL does: its album's cover (one
 * fetch per album) embedded and saved as `cover.jpg` with `save_external`;
 * unsynced lyrics embedded, synced ones saved as a `.lrc` beside it; then its
 * tags, written by the Tagger in its own CPU pool. A file that cannot be
 * tagged is kept, and the outcome says why. Only the state store failing fails.
 */
export const postProcess = Effect.fn("postProcess")(function*(
  job: Job,
  track: Track,
  library: TrackLibrary | undefined,
  outcome: TrackOutcome
) {
  const tagger = yield* Effect.serviceOption(Tagger)
  if (Option.isNone(tagger) || outcome.state !== "done" || outcome.path === undefined) return outcome
  const api = yield* MusicApi
  const store = yield* JobStore
  const settings = settingsOf(job)
  const path = outcome.path
  const notes: Array<string> = []

  // OrpheusDL's two sizes: `main_resolution` embedded, `external_resolution` as cover.jpg (one fetch when equal).
  const saveAs = coverFile(settings, library)
  const [embedded, saved] = library === undefined ? [undefined, undefined] : yield* Effect.all([
    settings.embedCover ? library.art.cover(track, settings.mainResolution) : Effect.succeed(undefined),
    saveAs === undefined ? Effect.succeed(undefined) : library.art.cover(track, settings.externalResolution, saveAs)
  ], { concurrency: "unbounded" })
  const problems = [embedded, saved].flatMap((cover) => cover !== undefined && "problem" in cover ? [cover.problem] : [])
  for (const problem of new Set(problems)) notes.push(`no cover: ${problem}`)

  let embeddedLyrics: string | undefined
  if (settings.embedLyrics || settings.saveSyncedLyrics) {
    const lyrics = yield* Effect.either(api.lyrics(track))
    if (lyrics._tag === "Left") {
      notes.push(`no lyrics: ${messageOf(lyrics.left)}`)
    } else if (lyrics.right !== undefined) {
      const { synced, unsynced } = lyrics.right
      if (settings.embedLyrics) embeddedLyrics = settings.embedSyncedLyrics && synced !== undefined ? synced : unsynced
      if (settings.saveSyncedLyrics && synced !== undefined) {
        yield* writeSmall(lrcPath(path), new TextEncoder().encode(`${synced}\n`)).pipe(
          Effect.catchAll((error) => Effect.sync(() => notes.push(`no .lrc: ${messageOf(error)}`)))
        )
      }
    }
  }

  const art = embedded !== undefined && "art" in embedded ? embedded.art : undefined
  const tagged = yield* Effect.either(tagger.value.write(path, tagsOf(track, embeddedLyrics), art))
  let final = outcome
  if (tagged._tag === "Left") {
    notes.unshift(`kept untagged: ${tagged.left.reason}`)
  } else if (tagged.right !== undefined) {
    final = { ...outcome, bytes: tagged.right.bytes, sha256: tagged.right.sha256 }
    // The archive holds the file as it is now, so that the next run knows it.
    yield* store.archive(track.provider, track.id, { path, bytes: tagged.right.bytes, sha256: tagged.right.sha256 })
  }
  const reason = [outcome.reason, ...notes].filter((note) => note !== undefined).join("; ")
  return reason === "" ? final : { ...final, reason }
})

/**
 * Finishes a placement that copied the file another placement of the same
 * track finished. The copy is already tagged and carries its cover: tags
 * describe the track, not where it is placed, so they are what tagging it
 * here would write. What sits beside a track is added: its album's
 * `cover.jpg` with `save_external`, and the `.lrc` saved beside the original.
 */
export const finishCopy = Effect.fn("finishCopy")(function*(
  job: Job,
  track: Track,
  library: TrackLibrary | undefined,
  from: string | undefined,
  outcome: TrackOutcome
) {
  const tagger = yield* Effect.serviceOption(Tagger)
  const path = outcome.path
  if (Option.isNone(tagger) || outcome.state === "failed" || from === undefined || path === undefined || path === from) {
    return outcome
  }
  const storage = yield* Storage
  const settings = settingsOf(job)
  const notes: Array<string> = []
  const saveAs = coverFile(settings, library)
  if (library !== undefined && saveAs !== undefined) {
    const saved = yield* library.art.cover(track, settings.externalResolution, saveAs)
    if (saved !== undefined && "problem" in saved) notes.push(`no cover: ${saved.problem}`)
  }
  if (settings.saveSyncedLyrics) {
    yield* Effect.gen(function*() {
      const [source, target] = [lrcPath(from), lrcPath(path)]
      if ((yield* storage.inspect(source)).finalBytes === undefined) return
      if ((yield* storage.inspect(target)).finalBytes === undefined) yield* storage.copy(source, target)
    }).pipe(Effect.catchAll((error) => Effect.sync(() => notes.push(`no .lrc: ${messageOf(error)}`))))
  }
  const reason = [outcome.reason, ...notes].filter((note) => note !== undefined).join("; ")
  return reason === "" ? outcome : { ...outcome, reason }
})

/**
 * How placeTrack runs a placement with post-processing: `work` (the download,
 * or the copy of another placement's file) under the group and track permits,
 * then, with a Tagger, `after` outside them (so CPU work and cover fetches
 * never hold a download slot), and `finish` last. Without a Tagger the item
 * finishes inside its permits, exactly as before.
 */
const thenOutsidePermits = <E, R, E2, R2, E3, R3>(
  work: Effect.Effect<TrackOutcome, E, R>,
  after: (outcome: TrackOutcome) => Effect.Effect<TrackOutcome, E3, R3>,
  finish: (outcome: TrackOutcome) => Effect.Effect<TrackOutcome, E2, R2>,
  withPermits: <A, E4, R4>(self: Effect.Effect<A, E4, R4>) => Effect.Effect<A, E4, R4>
) =>
  Effect.flatMap(Effect.serviceOption(Tagger), (tagger) =>
    Option.isNone(tagger)
      ? withPermits(Effect.flatMap(work, finish))
      : withPermits(work).pipe(Effect.flatMap(after), Effect.flatMap(finish)))

/** The first placement: the download, then postProcess. */
export const downloadThenPostProcess = <E, R, E2, R2>(
  job: Job,
  track: Track,
  library: TrackLibrary | undefined,
  download: Effect.Effect<TrackOutcome, E, R>,
  finish: (outcome: TrackOutcome) => Effect.Effect<TrackOutcome, E2, R2>,
  withPermits: <A, E3, R3>(self: Effect.Effect<A, E3, R3>) => Effect.Effect<A, E3, R3>
) => thenOutsidePermits(download, (outcome) => postProcess(job, track, library, outcome), finish, withPermits)

/** Any other placement: the copy of the file at `from`, then finishCopy. */
export const copyThenFinish = <E, R, E2, R2>(
  job: Job,
  track: Track,
  library: TrackLibrary | undefined,
  from: string | undefined,
  copy: Effect.Effect<TrackOutcome, E, R>,
  finish: (outcome: TrackOutcome) => Effect.Effect<TrackOutcome, E2, R2>,
  withPermits: <A, E3, R3>(self: Effect.Effect<A, E3, R3>) => Effect.Effect<A, E3, R3>
) => thenOutsidePermits(copy, (outcome) => finishCopy(job, track, library, from, outcome), finish, withPermits)
