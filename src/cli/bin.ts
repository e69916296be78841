import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { exitCodes, run } from "./Cli.js"

// The runtime interrupts the job on the first SIGINT/SIGTERM; a second one means "now", and so
// does the first once the job is over (lyra only waits for a reader to take its output then).
let signals = 0
let jobOver = false
const onSignal = () => {
  if (++signals >= 2 || jobOver) process.exit(exitCodes.interrupted)
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

/** How long an interrupted run waits for its output to drain. */
const interruptedFlushMillis = 1000

/**
 * Exits once stdout and stderr have handed the OS every byte written to them: on Linux a
 * pipe is written asynchronously, and `process.exit` drops what a slow reader has not taken
 * yet (the end of `--json`, with its JobFinished). A write's callback runs after every
 * earlier write has gone, or with the error of a stream that cannot take it.
 */
const exitWhenFlushed = (code: number) => {
  jobOver = true
  let pending = 2
  const done = () => {
    if (--pending === 0) process.exit(code)
  }
  process.stdout.write("", done)
  process.stderr.write("", done)
  // Interrupted, lyra must end within 2 s, even if a reader (a pager) has stopped reading.
  if (code === exitCodes.interrupted) setTimeout(() => process.exit(code), interruptedFlushMillis)
}

// What the CLI uses of the platform; NodeContext.layer would also build a worker pool and a
// command executor, whose modules cost start-up time and which lyra never calls.
const platformLayer = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

// Spans cost time on every traced call, and the CLI exports none.
NodeRuntime.runMain(run(process.argv).pipe(Effect.provide(platformLayer), Effect.withTracerEnabled(false)), {
  disableErrorReporting: true,
  // Exits explicitly, whatever the code: once the job's scope has closed, nothing is left to wait for.
  teardown: (exit) =>
    exitWhenFlushed(
      Exit.isSuccess(exit)
        ? exit.value as number
        : Cause.isInterruptedOnly(exit.cause)
        ? exitCodes.interrupted
        : exitCodes.failed
    )
})
