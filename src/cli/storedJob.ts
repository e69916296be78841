import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as JobStoreSqlite from "../layers/JobStoreSqlite.js"
import * as LibraryLock from "../layers/LibraryLock.js"
import type { ItemRecord, JobRecord } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { stateFile } from "./engineLayer.js"

/**
 * A job and its items, read without taking the library's lock (so it works
 * while another lyra runs). A job recorded as running whose lyra is gone (a
 * crash, `kill -9`, a state store that failed) is answered as interrupted.
 */
export const readStoredJob = (out: string, id: Option.Option<string>) =>
  Effect.gen(function*() {
    const store = yield* JobStore
    const recorded = yield* store.job(Option.getOrUndefined(id))
    const items = yield* store.items(recorded.id)
    const running = recorded.state === "running"
      ? yield* LibraryLock.holder(LibraryLock.lockFileFor(stateFile(out)))
      : undefined
    const job = recorded.state === "running" && running === undefined ? { ...recorded, state: "interrupted" as const } : recorded
    return { job, items, running } as {
      readonly job: JobRecord
      readonly items: ReadonlyArray<ItemRecord>
      /** The lyra process running the job, when it is running. */
      readonly running: LibraryLock.Holder | undefined
    }
  }).pipe(Effect.provide(JobStoreSqlite.layer({ filename: stateFile(out), readOnly: true })))
