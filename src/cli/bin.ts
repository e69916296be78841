import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { exitCodes, run } from "./Cli.js"

// The runtime interrupts the job on the first SIGINT/SIGTERM; a second one means "now".
let signals = 0
const onSignal = () => {
  if (++signals >= 2) process.exit(exitCodes.interrupted)
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

// A reader that goes away (`lyra search … | head`) ends the run as Ctrl-C would: finalizers run,
// and no stack trace is printed for the write that failed, nor for any after it.
let outputGone = false
const onOutputError = () => {
  if (outputGone) return
  outputGone = true
  process.kill(process.pid, "SIGINT")
}
process.stdout.on("error", onOutputError)
process.stderr.on("error", onOutputError)

// Spans cost time on every traced call, and the CLI exports none.
NodeRuntime.runMain(run(process.argv).pipe(Effect.provide(NodeContext.layer), Effect.withTracerEnabled(false)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) onExit(exit.value as number)
    else onExit(Cause.isInterruptedOnly(exit.cause) ? exitCodes.interrupted : exitCodes.failed)
  }
})
