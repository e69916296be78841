import { Clock, Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { JobStoreError } from "../services/JobStoreError.js"

export interface Holder {
  readonly pid: number
  readonly host: string
  readonly since: number
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readHolder = (file: string): Holder | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Holder
  } catch {
    return undefined
  }
}

/** The lock file beside a library's state file. */
export const lockFileFor = (stateFile: string) => path.join(path.dirname(stateFile), "lock")

/** The lyra process holding the lock, if one does: a live one on this host, or one on another host (which cannot be checked). */
export const holder = (file: string): Effect.Effect<Holder | undefined> =>
  Effect.sync(() => {
    const found = readHolder(file)
    return found === undefined || (found.host === os.hostname() && !isAlive(found.pid)) ? undefined : found
  })

/**
 * Holds `<library>/.lyra/lock` for the scope: one writer per library. A lock
 * left by a process that is gone (a crash, `kill -9`) is taken over; a live
 * holder is named in the refusal.
 */
export const acquire = (file: string) =>
  Effect.acquireRelease(
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.try({
        try: () => {
          const me: Holder = { pid: process.pid, host: os.hostname(), since: now }
          for (let attempt = 0; attempt < 2; attempt++) {
            try {
              fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" })
              return
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
              const holder = readHolder(file)
              if (holder !== undefined && holder.host === me.host && isAlive(holder.pid) && holder.pid !== me.pid) {
                throw new JobStoreError({
                  message: `another lyra (pid ${holder.pid}, running since ${new Date(holder.since).toISOString()}) `
                    + `is writing to this library; wait for it to finish or stop it`
                })
              }
              fs.rmSync(file, { force: true })
            }
          }
          throw new Error("the lock file keeps reappearing")
        },
        catch: (error) =>
          error instanceof JobStoreError
            ? error
            : new JobStoreError({ message: `cannot lock the library (${file}): ${(error as Error).message}` })
      })),
    () => Effect.sync(() => fs.rmSync(file, { force: true }))
  )
