import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
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

/** The lock's holder; a lock file that names none (half-written, garbled) holds nothing. */
const readHolder = (file: string): Holder | undefined => {
  try {
    const found = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Holder> | null
    return typeof found?.pid === "number" && typeof found.host === "string" && typeof found.since === "number"
      ? found as Holder
      : undefined
  } catch {
    return undefined
  }
}

/** The lock file beside a library's state file. */
export const lockFileFor = (stateFile: string) => path.join(path.dirname(stateFile), "lock")

/** The lyra holding the lock, if one does: a live one on this host, or one on another host (which cannot be checked). */
const liveHolder = (file: string): Holder | undefined => {
  const found = readHolder(file)
  return found === undefined || (found.host === os.hostname() && !isAlive(found.pid)) ? undefined : found
}

/** The lyra holding the lock, if one does (see liveHolder). */
export const holder = (file: string): Effect.Effect<Holder | undefined> => Effect.sync(() => liveHolder(file))

/**
 * Holds `<library>/.lyra/lock` for the scope: one writer per library. A lock
 * left by a process of this host that is gone (a crash, `kill -9`) is taken
 * over; a live holder is named in the refusal, and so is one on another host
 * (a library on a network share), whose liveness cannot be checked.
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
              const other = liveHolder(file)
              if (other !== undefined && !(other.host === me.host && other.pid === me.pid)) {
                throw new JobStoreError({ message: refusal(other, file) })
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

const refusal = (other: Holder, file: string) => {
  const since = new Date(other.since).toISOString()
  return other.host === os.hostname()
    ? `another lyra (pid ${other.pid}, running since ${since}) is writing to this library; wait for it to finish or stop it`
    : `another lyra (pid ${other.pid} on ${other.host}, running since ${since}) is writing to this library; `
      + `if it is gone, delete ${file}`
}
