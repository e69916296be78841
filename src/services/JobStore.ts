import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Context from "effect/Context"
import type { ItemKind, ProgressEventInput } from "../domain/ProgressEvent.js"
import type { JobStoreError } from "./JobStoreError.js"

export type JobState = "running" | "done" | "failed" | "interrupted"

/** A job as stored: what was asked, with which settings, and how it ended. */
export interface JobRecord {
  readonly id: string
  readonly inputs: ReadonlyArray<string>
  /** The job's settings as JSON, so `resume` runs it the same way. */
  readonly settings: unknown
  readonly createdAt: number
  readonly updatedAt: number
  readonly state: JobState
}

export type ItemState = "queued" | "running" | "done" | "failed" | "skipped"

/** One item of a job: an artist, album, playlist or track placement. */
export interface ItemRecord {
  readonly item: string
  readonly kind: ItemKind
  readonly label: string
  readonly parent: string | undefined
  readonly path: string | undefined
  readonly state: ItemState
  readonly bytes: number
  readonly sha256: string | undefined
  readonly attempts: number
  readonly error: string | undefined
}

/** A completed track in the per-provider archive (like yt-dlp's --download-archive). */
export interface ArchiveEntry {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

/**
 * Durable job state: jobs with their items, the archive of completed tracks,
 * and a metadata cache. The embedded default is SQLite; the port hides it.
 */
export class JobStore extends Context.Tag("lyra/JobStore")<JobStore, {
  readonly startJob: (inputs: ReadonlyArray<string>, settings: unknown) => Effect.Effect<JobRecord, JobStoreError>
  /** The job named, or the most recent one. */
  readonly job: (id?: string) => Effect.Effect<JobRecord, JobStoreError>
  readonly jobs: Effect.Effect<ReadonlyArray<JobRecord>, JobStoreError>
  readonly setJobState: (id: string, state: JobState) => Effect.Effect<void, JobStoreError>
  /** Applies one progress event to the job's items (queued, started, bytes, finished, retried). */
  readonly journal: (job: string, event: ProgressEventInput) => Effect.Effect<void, JobStoreError>
  readonly items: (job: string) => Effect.Effect<ReadonlyArray<ItemRecord>, JobStoreError>
  readonly archived: (provider: string, trackId: string) => Effect.Effect<Option.Option<ArchiveEntry>, JobStoreError>
  /** The archive's entries for many tracks in one read (a group's, before they start): a lookup by track. */
  readonly archivedAmong: (
    tracks: ReadonlyArray<{ readonly provider: string; readonly id: string }>
  ) => Effect.Effect<(provider: string, trackId: string) => Option.Option<ArchiveEntry>, JobStoreError>
  readonly archive: (provider: string, trackId: string, entry: ArchiveEntry) => Effect.Effect<void, JobStoreError>
  /** A cached answer no older than the store's time to live. */
  readonly cached: (key: string) => Effect.Effect<Option.Option<string>, JobStoreError>
  /** The cached answers among `keys` (those no older than the time to live), in one read. */
  readonly cachedAmong: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, string>, JobStoreError>
  readonly cache: (key: string, value: string) => Effect.Effect<void, JobStoreError>
}>() {}
