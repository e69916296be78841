import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { configCommand } from "./ConfigCommand.js"
import { downloadCommand } from "./DownloadCommand.js"
import { providersCommand } from "./ProvidersCommand.js"
import { resumeCommand, retryFailedCommand } from "./ResumeCommand.js"
import { searchCommand } from "./SearchCommand.js"
import { simulateCommand } from "./SimulateCommand.js"
import { statusCommand } from "./StatusCommand.js"

export const version = "0.1.0"

const lyra = Command.make("lyra").pipe(
  Command.withDescription("A concurrent music archiver: bounded, rate-limit aware, resumable."),
  Command.withSubcommands([
    downloadCommand,
    resumeCommand,
    retryFailedCommand,
    statusCommand,
    searchCommand,
    providersCommand,
    configCommand,
    simulateCommand
  ])
)

const cli = Command.run(lyra, { name: "lyra", version })

/** Exit codes: 0 all succeeded, 1 some item failed, 2 bad usage (130, interrupted, is set by the runtime). */
export const exitCodes = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

/**
 * Runs the CLI on `argv` (as process.argv: node, script, args...) and answers
 * the exit code. Expected failures become one line on stderr, never a stack trace.
 */
export const run = (argv: ReadonlyArray<string>) =>
  cli(argv).pipe(
    Effect.as(exitCodes.ok),
    Effect.catchAll((error) => {
      if (ValidationError.isValidationError(error)) return Effect.succeed(exitCodes.usage) // @effect/cli printed it
      switch (error._tag) {
        case "JobIncomplete":
          return Effect.succeed(exitCodes.failed)
        case "UsageError":
          return Effect.as(Console.error(`lyra: ${error.message}`), exitCodes.usage)
        default:
          return Effect.as(Console.error(`lyra: ${messageOf(error)}`), exitCodes.failed)
      }
    }),
    Effect.catchAllDefect((defect) =>
      Effect.as(Console.error(`lyra: internal error: ${messageOf(Cause.squash(Cause.die(defect)))}`), exitCodes.failed)
    )
  )
