import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { itemOf, journalItem } from "../domain/journalItem.js"
import type { ArchiveEntry, ItemRecord, JobRecord } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { JobStoreError } from "../services/JobStoreError.js"

export interface JobStoreMemoryOptions {
  /** How long a cached metadata answer is good for; default 24 hours. */
  readonly metadataTtl?: Duration.DurationInput
}

/** A JobStore that lives as long as the process: for `--no-state`, tests and simulations. */
export const make = (options: JobStoreMemoryOptions = {}) =>
  Effect.sync(() => {
    const ttl = Duration.toMillis(options.metadataTtl ?? Duration.hours(24))
    const jobs = new Map<string, JobRecord>()
    const items = new Map<string, Map<string, ItemRecord>>()
    const archive = new Map<string, ArchiveEntry>()
    const metadata = new Map<string, { readonly value: string; readonly at: number }>()
    const find = (id?: string) =>
      Effect.suspend(() => {
        const job = id === undefined ? [...jobs.values()].at(-1) : jobs.get(id)
        return job === undefined
          ? new JobStoreError({ message: id === undefined ? "no job has run in this library yet" : `no job ${id}` })
          : Effect.succeed(job)
      })
    return JobStore.of({
      startJob: (inputs, settings) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const job: JobRecord = {
            id: String(jobs.size + 1),
            inputs,
            settings,
            createdAt: now,
            updatedAt: now,
            state: "running"
          }
          jobs.set(job.id, job)
          items.set(job.id, new Map())
          return job
        }),
      job: find,
      jobs: Effect.sync(() => [...jobs.values()]),
      setJobState: (id, state) =>
        Effect.flatMap(find(id), (job) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            jobs.set(id, { ...job, state, updatedAt: now })
          })),
      journal: (job, event) =>
        Effect.sync(() => {
          const item = itemOf(event)
          const table = items.get(job)
          if (item === undefined || table === undefined) return
          const next = journalItem(table.get(item), event)
          if (next !== undefined) table.set(item, next)
        }),
      items: (job) => Effect.sync(() => [...(items.get(job)?.values() ?? [])]),
      archived: (provider, trackId) => Effect.sync(() => Option.fromNullable(archive.get(`${provider}:${trackId}`))),
      // The entries as they are now, as SQLite's one read gives them.
      archivedAmong: (tracks) =>
        Effect.sync(() => {
          const found = new Map<string, ArchiveEntry>()
          for (const { id, provider } of tracks) {
            const entry = archive.get(`${provider}:${id}`)
            if (entry !== undefined) found.set(`${provider}:${id}`, entry)
          }
          return (provider: string, trackId: string) => Option.fromNullable(found.get(`${provider}:${trackId}`))
        }),
      archive: (provider, trackId, entry) => Effect.sync(() => void archive.set(`${provider}:${trackId}`, entry)),
      cached: (key) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const hit = metadata.get(key)
          return hit !== undefined && now - hit.at < ttl ? Option.some(hit.value) : Option.none()
        }),
      cachedAmong: (keys) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const found = new Map<string, string>()
          for (const key of keys) {
            const hit = metadata.get(key)
            if (hit !== undefined && now - hit.at < ttl) found.set(key, hit.value)
          }
          return found
        }),
      cache: (key, value) =>
        Effect.map(Clock.currentTimeMillis, (now) => void metadata.set(key, { value, at: now }))
    })
  })

export const layer = (options: JobStoreMemoryOptions = {}): Layer.Layer<JobStore> =>
  Layer.effect(JobStore, make(options))
