import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { formatBytes } from "../domain/Format.js"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { ItemRecord, ItemState } from "../services/JobStore.js"
import { readStoredJob } from "./storedJob.js"

export const jobArg = Args.text({ name: "job" }).pipe(
  Args.optional,
  Args.withDescription("The job's id (see `lyra status`); the most recent job when left out.")
)

export const outOption = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.withDefault("./library"),
  Options.withDescription("The library folder whose jobs to use.")
)

const states: ReadonlyArray<ItemState> = ["done", "skipped", "failed", "running", "queued"]
const kinds: ReadonlyArray<ItemKind> = ["track", "album", "playlist", "artist"]

const countsOf = (items: ReadonlyArray<ItemRecord>, kind: ItemKind) => {
  const counts = Object.fromEntries(states.map((state) => [state, 0])) as Record<ItemState, number>
  for (const item of items) if (item.kind === kind) counts[item.state]++
  return counts
}

/** `lyra status [job]`: counts, failures with their reasons, and bytes. */
export const statusCommand = Command.make(
  "status",
  { job: jobArg, out: outOption, json: Options.boolean("json").pipe(Options.withDescription("Print it as JSON.")) },
  Effect.fn("lyra status")(function*(options) {
    const { items, job, running } = yield* readStoredJob(options.out, options.job)
    const bytes = items.filter((i) => i.kind === "track" && i.state === "done").reduce((sum, i) => sum + i.bytes, 0)
    const failures = items.filter((i) => i.state === "failed")
    if (options.json) {
      return yield* Console.log(JSON.stringify(
        {
          job,
          ...(running === undefined ? {} : { running }),
          counts: Object.fromEntries(kinds.map((kind) => [kind, countsOf(items, kind)])),
          bytes,
          failures: failures.map(({ error, item, kind, label }) => ({ item, kind, label, reason: error }))
        },
        null,
        2
      ))
    }
    const state = running === undefined ? job.state : `running: pid ${running.pid} on ${running.host}`
    yield* Console.log(`job ${job.id}: ${job.inputs.join(" ")} (${state})`)
    for (const kind of kinds) {
      const counts = countsOf(items, kind)
      const total = states.reduce((sum, state) => sum + counts[state], 0)
      if (total === 0) continue
      const pending = counts.running + counts.queued
      yield* Console.log(
        `  ${kind}s: ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed`
          + (pending > 0 ? `, ${pending} not finished` : "")
      )
    }
    yield* Console.log(`  written: ${formatBytes(bytes)}`)
    if (failures.length > 0) {
      yield* Console.log(`Failed (${failures.length}):`)
      for (const failure of failures) yield* Console.log(`  ${failure.label}: ${failure.error ?? "no reason recorded"}`)
      yield* Console.log(`retry them: lyra retry-failed ${job.id} --out ${options.out}`)
    }
    // A job its lyra still runs continues by itself; one whose lyra is gone is shown as interrupted.
    if (job.state === "interrupted") {
      yield* Console.log(`continue it: lyra resume ${job.id} --out ${options.out}`)
    }
  })
).pipe(Command.withDescription("Show a job's counts, failures with their reasons, and bytes written."))
