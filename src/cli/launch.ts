// The `lyra` executable: runs the bundled CLI (lyra.cjs) through V8's code cache.
// Node 20 has no compile cache for modules, and compiling the bundle was
// most of start-up. The cache is written after the first run, so it holds the
// functions that run actually compiled, not just the top level; V8 rejects a
// cache made for other flags or another version, and it is then written anew.
import type * as ChildProcess from "node:child_process"
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type * as V8 from "node:v8"
import { Script } from "node:vm"

/**
 * `lyra simulate` makes and drops small objects by the million. Under the 1 MB
 * young generation bin/lyra.js sets for the download's memory, most of its time
 * went to collecting them (10,000 tracks: 83 s, against 33 s with 32 MB). So it
 * runs in a node of its own with a big one; this process only waits, passing
 * on signals and the exit status.
 */
const simulateFlag = "--max-semi-space-size=32"

const relaunchedSimulate = (): boolean => {
  if (process.argv[2] !== "simulate" || process.execArgv.includes(simulateFlag)) return false
  const flags = [...process.execArgv.filter((flag) => !flag.startsWith("--max-semi-space-size")), simulateFlag]
  // Loaded here only: child_process (with net and dgram) took 3 ms of every other start.
  const { spawn } = createRequire(import.meta.url)("node:child_process") as typeof ChildProcess
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], { stdio: "inherit" })
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const
  // A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on.
  for (const signal of signals) process.on(signal, () => child.kill(signal))
  child.on("error", (error) => {
    process.stderr.write(`lyra: cannot start the simulation: ${error.message}\n`)
    process.exit(1)
  })
  child.on("exit", (code, signal) => {
    if (signal === null) process.exit(code ?? 1)
    for (const each of signals) process.removeAllListeners(each)
    process.kill(process.pid, signal)
  })
  return true
}

const bundle = fileURLToPath(new URL("./lyra.cjs", import.meta.url))
const folder = dirname(bundle)
// V8 checks a cache only against the source's length, so its name carries which
// build of the bundle (and which V8 and flags) it was made for.
const { mtimeMs, size } = statSync(bundle)
const key = createHash("sha256")
  .update(`${process.versions.v8}\0${process.execArgv.join(" ")}\0${bundle}\0${size}\0${mtimeMs}`)
  .digest("hex")
const cacheName = `lyra.cjs.${key.slice(0, 16)}.cache`
const cacheFiles = [join(folder, cacheName), join(tmpdir(), `lyra-${process.getuid?.() ?? "user"}`, cacheName)]

const readCache = (): Buffer | undefined => {
  for (const file of cacheFiles) {
    try {
      return readFileSync(file)
    } catch {
      // Not there or not readable: try the next place, or compile without one.
    }
  }
  return undefined
}

/** Written whole under a temporary name, then renamed: a concurrent start never reads half a cache. */
const writeCache = (data: Buffer) => {
  for (const file of cacheFiles) {
    try {
      mkdirSync(dirname(file), { recursive: true })
      const temporary = `${file}.${process.pid}`
      writeFileSync(temporary, data)
      renameSync(temporary, file)
      return
    } catch {
      // A read-only install: try the next place; without any, start-up is only slower.
    }
  }
}

const runBundle = () => {
  const cachedData = readCache()
  const script = new Script(
    // The build checks the bundle is ASCII: read as latin1, it needs no UTF-8 decoding (15-25 ms).
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, "latin1")}\n})`,
    { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) }
  )
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // Loaded here only: node:v8 took 3 ms of every start that had a cache.
    const { setFlagsFromString } = createRequire(import.meta.url)("node:v8") as typeof V8
    // V8 drops the bytecode of functions idle for a while, so a cache written at the end of a download
    // lacked the start-up code, and every later start compiled it again: a no-op re-run took 770 ms
    // against 580 with a cache written by `--version`. The run that writes the cache keeps it all.
    setFlagsFromString("--no-flush-bytecode")
    process.once("exit", () => {
      // V8 accepts a cache only under the flags it was made with: those of every other run.
      setFlagsFromString("--flush-bytecode")
      writeCache(script.createCachedData())
    })
  }
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, folder)
}

if (!relaunchedSimulate()) runBundle()
