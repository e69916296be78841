import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { UsageError } from "../domain/UsageError.js"
import type { JobRecord } from "../services/JobStore.js"
import type { ItemRecord } from "../services/JobStore.js"
import { download } from "../programs/download.js"
import { engineLayer } from "./engineLayer.js"
import { JobIncomplete } from "./JobIncomplete.js"
import { jobSettingsOf } from "./JobOptions.js"
import { outputOptions } from "./OutputOptions.js"
import type { OutputOptions } from "./OutputOptions.js"
import { jobArg, outOption } from "./StatusCommand.js"
import { readStoredJob } from "./storedJob.js"
import { fromStored } from "./StoredOptions.js"

/** Runs a stored job again with its own options, on `inputs` (all of them, or just what failed). */
const rerun = (
  here: OutputOptions & { readonly out: string },
  id: Option.Option<string>,
  inputsOf: (job: JobRecord, items: ReadonlyArray<ItemRecord>) => ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const { items, job } = yield* readStoredJob(here.out, id)
    const options = fromStored(job.settings, here)
    if (options === undefined) {
      return yield* new UsageError({ message: `job ${job.id} was stored without its options; start it again instead` })
    }
    const inputs = inputsOf(job, items)
    if (inputs.length === 0) return yield* Effect.log(`job ${job.id}: nothing to do`)
    const report = yield* download(inputs, jobSettingsOf(options), { resume: job }).pipe(
      Effect.provide(engineLayer(options))
    )
    if (!report.succeeded) return yield* new JobIncomplete({ failed: report.failed })
  })

/** `lyra resume [job]`: continue a job after a crash or an interrupt; what is done is not fetched again. */
export const resumeCommand = Command.make(
  "resume",
  { job: jobArg, out: outOption, ...outputOptions },
  (options) => rerun(options, options.job, (job) => job.inputs)
).pipe(Command.withDescription("Continue the last job (or the one named) after a crash or an interrupt."))

/** The reference that re-runs an item: a failed track is retried through its album or playlist. */
const refOf = (item: string): string | undefined =>
  /^[^:]+:(track|album|artist|playlist|single):[^#/]+/.exec(item)?.[0]?.replace(":single:", ":track:")

/** The inputs that retry exactly the failed items of a job. */
export const failedInputs = (items: ReadonlyArray<ItemRecord>): ReadonlyArray<string> => {
  const byId = new Map(items.map((item) => [item.item, item]))
  const refs = new Set<string>()
  for (const item of items) {
    if (item.state !== "failed") continue
    const hasFailedChild = items.some((child) => child.parent === item.item && child.state === "failed")
    if (hasFailedChild) continue
    const parent = item.parent === undefined ? undefined : byId.get(item.parent)
    const ref = refOf(parent !== undefined && parent.kind !== "artist" ? parent.item : item.item)
    if (ref !== undefined) refs.add(ref)
  }
  return [...refs]
}

/** `lyra retry-failed [job]`: re-run only the failed items of a job. */
export const retryFailedCommand = Command.make(
  "retry-failed",
  { job: jobArg, out: outOption, ...outputOptions },
  (options) => rerun(options, options.job, (_, items) => failedInputs(items))
).pipe(Command.withDescription("Re-run only the failed items of the last job (or the one named)."))
