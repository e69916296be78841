import { Effect, Option } from "effect"
import * as JobStoreSqlite from "../layers/JobStoreSqlite.js"
import type { ItemRecord, JobRecord } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { stateFile } from "./engineLayer.js"

/** A job and its items, read without taking the library's lock (so it works while another lyra runs). */
export const readStoredJob = (out: string, id: Option.Option<string>) =>
  Effect.gen(function*() {
    const store = yield* JobStore
    const job = yield* store.job(Option.getOrUndefined(id))
    const items = yield* store.items(job.id)
    return { job, items } as { readonly job: JobRecord; readonly items: ReadonlyArray<ItemRecord> }
  }).pipe(Effect.provide(JobStoreSqlite.layer({ filename: stateFile(out), readOnly: true })))
