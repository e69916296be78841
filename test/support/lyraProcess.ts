import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Deferred, Duration, Effect, Exit, Schedule } from "effect"
import { shellQuote } from "./osFaults.js"

/** The repository, the bundled CLI that `npm run build` makes, and the executable that loads it as users run it. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
export const bundle = join(repoRoot, "dist", "bundle", "bin.cjs")
export const launcher = join(repoRoot, "bin", "lyra.js")

export const assertBuilt = () => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first (npm test does)`)
}

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface LyraOptions {
  /** The whole environment of the child (nothing is inherited but PATH). */
  readonly env?: Readonly<Record<string, string>>
  /** Puts these words before `node`, e.g. `setpriv --reuid=…` to run without root. */
  readonly prefix?: ReadonlyArray<string>
}

/**
 * `node dist/bundle/bin.cjs <args>` as a real process, its stdout and stderr
 * kept apart; SIGKILLed when the scope closes if it still runs, and awaited,
 * so a folder is never removed (or unmounted) under it.
 */
export const spawnLyra = (args: ReadonlyArray<string>, options: LyraOptions = {}) =>
  Effect.gen(function*() {
    const ended = yield* Deferred.make<Finished>()
    let stdout = ""
    let stderr = ""
    const [command, ...rest] = [...(options.prefix ?? []), process.execPath, bundle, ...args]
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(command!, rest, {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? "", ...options.env },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) =>
        child.exitCode === null && child.signalCode === null
          ? Effect.sync(() => child.kill("SIGKILL")).pipe(
            Effect.zipRight(Deferred.await(ended)),
            Effect.timeout("10 seconds"),
            Effect.ignore
          )
          : Effect.void
    )
    child.stdout?.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    // "close", not "exit": both pipes are drained by then.
    child.on("close", (code, signal) => Deferred.unsafeDone(ended, Exit.succeed({ code, signal, stdout, stderr })))
    const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`
    return {
      output,
      signal: (name: NodeJS.Signals) =>
        Effect.sync(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill(name)
        }),
      /** The exit, at most `within` away; a process still running then fails the test. */
      finished: (within: Duration.DurationInput = "60 seconds") =>
        Deferred.await(ended).pipe(
          Effect.timeoutFail({
            duration: within,
            onTimeout: () => new Error(`lyra did not exit within ${Duration.format(within)}; ${output()}`)
          })
        ),
      /** Polls `condition` until it holds (at most `within`); fails at once if lyra exits first. */
      waitUntil: (what: string, condition: () => boolean, within: Duration.DurationInput = "30 seconds") =>
        Effect.suspend(() =>
          Deferred.isDone(ended).pipe(
            Effect.flatMap((done) =>
              done ? Effect.fail(new Error(`lyra exited before ${what}; ${output()}`)) : Effect.sync(condition)
            )
          )
        ).pipe(
          Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (held) => held }),
          Effect.timeoutFail({
            duration: within,
            onTimeout: () => new Error(`timed out waiting until ${what}; ${output()}`)
          })
        )
    }
  })

/** Runs lyra to its end. */
export const runLyra = (args: ReadonlyArray<string>, options: LyraOptions = {}, within?: Duration.DurationInput) =>
  Effect.scoped(Effect.flatMap(spawnLyra(args, options), (lyra) => lyra.finished(within)))

/** What a stack trace looks like in output: `    at fn (file:line:col)`, or Node's `Error: …` banner lines. */
export const stackTrace = /^\s+at\s|^\w*Error: |node:internal|\.[cm]?[jt]s:\d+:\d+/m

export interface Steps {
  /** Shell lines run first (mounts); the script stops if one fails. */
  readonly setup: ReadonlyArray<string>
  /** lyra's arguments, one run after another, whatever each exits with. */
  readonly runs: ReadonlyArray<ReadonlyArray<string>>
  /** A folder whose files (relative paths) are listed after the runs, while its mounts still exist. */
  readonly list: string
}

/**
 * Runs lyra several times in one shell under `options.prefix` (e.g. a private
 * mount namespace, made by `setup`), and answers each run as it finished, and
 * the files under `list` at the end: inside such a namespace the mounts, and
 * what is on them, are gone once the shell exits.
 */
export const runLyraSteps = (steps: Steps, options: LyraOptions = {}, within: Duration.DurationInput = "120 seconds") =>
  Effect.gen(function*() {
    const results = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "lyra-steps-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const at = (name: string) => shellQuote(join(results, name))
    const script = [
      "set -e",
      ...steps.setup,
      "set +e",
      ...steps.runs.map((args, i) =>
        `${shellQuote(process.execPath)} ${shellQuote(bundle)} ${args.map(shellQuote).join(" ")} `
        + `> ${at(`${i}.out`)} 2> ${at(`${i}.err`)}; echo $? > ${at(`${i}.code`)}`
      ),
      `(cd ${shellQuote(steps.list)} && find . -type f) > ${at("files")}`
    ].join("\n")
    const shell = yield* runLyraCommand([...(options.prefix ?? []), "sh", "-c", script], options.env ?? {}, within)
    if (shell.code !== 0) return yield* Effect.dieMessage(`the steps' shell failed (${shell.code}): ${shell.stderr}`)
    const read = (name: string) => readFileSync(join(results, name), "utf8")
    return {
      runs: steps.runs.map((_, i): Finished => ({
        code: Number(read(`${i}.code`).trim()),
        signal: null,
        stdout: read(`${i}.out`),
        stderr: read(`${i}.err`)
      })),
      files: read("files").split("\n").filter((line) => line !== "").map((line) => line.replace(/^\.\//, "")).sort()
    }
  }).pipe(Effect.scoped)

/** Any command, to its end (at most `within`), with its output. */
const runLyraCommand = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string>>, within: Duration.DurationInput) =>
  Effect.async<Finished>((resume) => {
    let stdout = ""
    let stderr = ""
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", ...env } })
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    // Interrupted (a timeout): the child goes, and with `--kill-child` every process of its pid namespace.
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`${argv.join(" ")} did not end in time`) }))
