/**
 * `npm run bench:simulate`: how fast `lyra simulate` plays out big jobs.
 *
 * Runs `lyra simulate --json` (the bundled CLI, as a user runs it) on catalogs
 * of growing size and prints, for each, the wall time, the CPU time, the peak
 * RSS, the predicted makespan and the virtual clock's work. Targets (issue 6):
 * 10,000 tracks under 5 s and 100,000 under 60 s of wall time, within 500 MB.
 * It also checks that two runs of the same scenario print the same bytes.
 * A benchmark, not a test: it exits 0 unless it cannot run at all.
 *
 * With `--fidelity`, it compares instead: the Subsonic benchmark's measured
 * runs (`npm run bench`, its bench/subsonic/results/latest.json) against what
 * `lyra simulate` predicts for the same library, server limits and settings
 * (target: within 15%).
 *
 * Options:
 *   --tracks 1000,10000,100000   catalog sizes (tracks; 10 albums of 10 tracks per artist)
 *   --heap MB                    the child's --max-old-space-size (default 450, for the 500 MB target)
 *   --timeout S                  give up on one size after S seconds (default 900)
 *   --fidelity                   predicted against measured, for the Subsonic benchmark
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { packageRoot } from "./packageRoot.js"

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback
}

const sizes = option("tracks", "1000,10000,100000").split(",").map((text) => Number(text.trim())).filter((n) => n > 0)
const heapMegabytes = Number(option("heap", "450"))
const timeoutSeconds = Number(option("timeout", "900"))
const targets = new Map([[10_000, 5_000], [100_000, 60_000]])
const rssTarget = 500 * 1024 * 1024

const root = packageRoot()
/** The `lyra` executable, run as a user runs it (its shebang sets its own V8 flags). */
const bin = join(root, "bin", "lyra.js")
const bundle = join(root, "dist", "bundle", "bin.cjs")
if (!existsSync(bundle)) {
  console.error(`bench: ${bundle} is missing; run \`npm run build\` first`)
  process.exit(1)
}

/** A big, rate-limited service, with lyra paced just under its limit so the job is all work and no 429 storm. */
const argsFor = (tracks: number) => [
  "simulate",
  "--json",
  "--sim", `artists=${Math.max(1, Math.round(tracks / 100))}`,
  "--sim", "albums=10",
  "--sim", "tracks=10",
  "--sim", "rate-limit=400/s,burst=40",
  "--sim", "bandwidth=8MB/s",
  "--sim", "error-rate=0.01",
  "--albums", "8",
  "--tracks", "32",
  "--api", "24",
  "--rate", "390",
  "--burst", "40"
]

/** The environment without LYRA_SIM_*: the scenario is the flags' alone. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LYRA_SIM_")))

const ticks = 100 // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux.

const readOne = (pid: number) => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const cpu = (Number(fields[11]) + Number(fields[12])) * 1000 / ticks
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter((id) => id !== "").map(Number)
    return { hwm: hwm === null ? 0 : Number(hwm[1]) * 1024, cpuMillis: cpu, children }
  } catch {
    return undefined // already gone
  }
}

/**
 * `lyra simulate` runs in a second node that bin/lyra.js starts and waits for
 * (see src/cli/launch.ts), so the figures are the whole tree's: peak RSS as the
 * sum of each process's peak, and CPU time summed.
 */
const readProc = (pid: number): { readonly hwm: number; readonly cpuMillis: number } | undefined => {
  const one = readOne(pid)
  if (one === undefined) return undefined
  let { cpuMillis, hwm } = one
  for (const child of one.children) {
    const below = readProc(child)
    if (below !== undefined) {
      hwm += below.hwm
      cpuMillis += below.cpuMillis
    }
  }
  return { hwm, cpuMillis }
}

interface Sample {
  readonly wallMillis: number
  readonly cpuMillis: number | undefined
  readonly peakRss: number | undefined
  readonly stdout: string
  readonly code: number | null
}

const runOnce = (tracks: number): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, argsFor(tracks), {
      cwd: root,
      env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --max-old-space-size=${heapMegabytes}`.trim() },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let peak: number | undefined
    let cpu: number | undefined
    const started = performance.now()
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    const poll = setInterval(() => {
      const proc = child.pid === undefined ? undefined : readProc(child.pid)
      if (proc !== undefined) {
        peak = Math.max(peak ?? 0, proc.hwm)
        cpu = Math.max(cpu ?? 0, proc.cpuMillis)
      }
    }, 20)
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000)
    child.on("error", (error) => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(error)
    })
    child.on("exit", (code) => {
      clearInterval(poll)
      clearTimeout(timer)
      if (code !== 0) process.stderr.write(`bench: ${tracks} tracks exited ${code}\n${stderr.slice(-2000)}\n`)
      resolve({ wallMillis: performance.now() - started, cpuMillis: cpu, peakRss: peak, stdout, code })
    })
  })

const seconds = (millis: number | undefined) => millis === undefined ? "n/a" : `${(millis / 1000).toFixed(2)} s`
const megabytes = (bytes: number | undefined) => bytes === undefined ? "n/a" : `${(bytes / (1024 * 1024)).toFixed(0)} MB`

const main = async () => {
  console.log(`lyra bench:simulate — node ${process.version}, bin/lyra.js with a heap limit of ${heapMegabytes} MB`)
  console.log(`scenario: ${argsFor(0).slice(2).join(" ").replace(/artists=\d+/, "artists=<tracks/100>")}\n`)
  console.log(
    `${"tracks".padStart(8)}${"placed".padStart(9)}${"wall".padStart(10)}${"cpu".padStart(10)}${"µs/track".padStart(10)}${
      "peak RSS".padStart(10)
    }${"makespan".padStart(12)}${"requests".padStart(10)}  target`
  )
  const results = []
  for (const tracks of sizes) {
    const sample = await runOnce(tracks)
    let report: { catalog: { tracks: number; placements: number }; makespanMillis: number; requests: { total: number } } | undefined
    try {
      report = JSON.parse(sample.stdout)
    } catch {
      report = undefined
    }
    const target = targets.get(tracks)
    const verdict = sample.code !== 0
      ? "did not finish"
      : [
        target === undefined ? undefined : sample.wallMillis <= target ? `wall ≤ ${seconds(target)}: met` : `wall ≤ ${seconds(target)}: MISSED`,
        sample.peakRss === undefined ? undefined : sample.peakRss <= rssTarget ? "RSS met" : "RSS MISSED"
      ].filter((part) => part !== undefined).join(", ")
    const placed = report?.catalog.placements
    console.log(
      `${String(report?.catalog.tracks ?? tracks).padStart(8)}${String(placed ?? "n/a").padStart(9)}${
        seconds(sample.wallMillis).padStart(10)
      }${seconds(sample.cpuMillis).padStart(10)}${
        (placed === undefined || sample.cpuMillis === undefined ? "n/a" : String(Math.round(sample.cpuMillis * 1000 / placed)))
          .padStart(10)
      }${megabytes(sample.peakRss).padStart(10)}${seconds(report?.makespanMillis).padStart(12)}${
        String(report?.requests.total ?? "n/a").padStart(10)
      }  ${verdict}`
    )
    results.push({ tracks, ...sample, stdout: undefined, report: report === undefined ? undefined : { ...report, levels: undefined } })
  }

  // Determinism: the smallest size again must print the same bytes.
  const smallest = Math.min(...sizes)
  const [a, b] = [await runOnce(smallest), await runOnce(smallest)]
  console.log(`\nsame scenario twice (${smallest} tracks): ${a.stdout === b.stdout && a.code === 0 ? "identical output" : "OUTPUT DIFFERS"}`)
}

// -- fidelity: predicted against measured, on the Subsonic benchmark -------------------------------

interface Measured {
  readonly shape: { readonly artists: number; readonly albums: number; readonly tracks: number; readonly seconds: number }
  readonly rate: number
  readonly burst: number
  /** nginx's `limit_rate` on the media, when the benchmark set one. */
  readonly limitRate?: string | undefined
  readonly bytes: number
  readonly results: ReadonlyArray<{
    readonly name: string
    readonly command: string
    readonly wallSeconds: number
    readonly requests: number
    readonly rateLimited: number
    readonly completions: ReadonlyArray<number>
  }>
}

/** nginx sizes: `2m` is 2 MiB, `512k` 512 KiB. */
const nginxBytes = (text: string) => {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text.trim())
  if (match === null) return undefined
  return Number(match[1]) * ({ "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()] ?? 1)
}

/** Flags after `download <inputs...>` in a measured command line. */
const lyraFlags = (command: string) => {
  const words = command.split(/\s+/)
  const first = words.findIndex((word) => word.startsWith("--"))
  return first < 0 ? [] : words.slice(first).filter((word, i, all) => !["--out", "--quiet"].includes(word) && all[i - 1] !== "--out")
}

const fidelity = async () => {
  const file = join(root, "bench", "subsonic", "results", "latest.json")
  if (!existsSync(file)) {
    console.log(`bench: ${file} is missing: run \`npm run bench\` (the Subsonic benchmark) first`)
    return
  }
  const measured = JSON.parse(readFileSync(file, "utf8")) as Measured
  const { shape } = measured
  const tracks = shape.artists * shape.albums * shape.tracks
  // nginx's limit_rate lets a connection send one second's worth at once (it allows rate × (elapsed + 1 s)),
  // so files smaller than that arrive at the loopback's speed: unlimited, for the simulation.
  const limit = measured.limitRate === undefined ? undefined : nginxBytes(measured.limitRate)
  const bandwidth = limit !== undefined && measured.bytes / tracks > limit ? limit : undefined
  // The same library and server: artist 1 of the sim has a fixed shape, so artists 2.. are the library.
  const service = [
    "--sim", "api-style=subsonic",
    "--sim", `artists=${shape.artists + 1}`,
    "--sim", `albums=${shape.albums}`,
    "--sim", `tracks=${shape.tracks}`,
    "--sim", "compilations=0",
    "--sim", `duration=${shape.seconds}s`,
    "--sim", `audio-rate=${Math.round(measured.bytes / tracks / shape.seconds)}`,
    "--sim", "latency=1ms",
    // nginx's limit_req lets the first request and `burst` more through at once.
    "--sim", `rate-limit=${measured.rate}/s,burst=${measured.burst + 1}`,
    "--sim", "retry-after=on",
    "--sim", "error-rate=0",
    "--sim", `bandwidth=${bandwidth === undefined ? "unlimited" : Math.round(bandwidth)}`
  ]
  const inputs = Array.from({ length: shape.artists }, (_, i) => `sim:artist:${i + 2}`)
  console.log(`lyra bench:simulate --fidelity: ${tracks} tracks (${(measured.bytes / 1e6).toFixed(1)} MB), nginx limit_req ${measured.rate} r/s burst ${measured.burst}${
      measured.limitRate === undefined ? "" : `, limit_rate ${measured.limitRate}`
    }`)
  console.log(`measured: ${file}`)
  console.log(`predicted: lyra simulate ${inputs.join(" ")} ${service.join(" ")} <flags>\n`)
  console.log(`${"run".padEnd(18)}${"measured".padStart(10)}${"predicted".padStart(11)}${"gap".padStart(8)}${"aligned".padStart(10)}${"gap".padStart(8)}${"429s".padStart(11)}${"requests".padStart(11)}`)
  for (const result of measured.results.filter((r) => r.name.startsWith("lyra"))) {
    const flags = lyraFlags(result.command)
    const run = await new Promise<string>((resolve) => {
      const child = spawn(bin, ["simulate", ...inputs, ...service, ...flags, "--json"], { cwd: root, env })
      let out = ""
      child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString("utf8")))
      child.on("exit", () => resolve(out))
    })
    const report = JSON.parse(run) as {
      makespanMillis: number
      completions: { firstMillis: number | null; lastMillis: number | null }
      requests: { total: number; rateLimited: number }
    }
    const predicted = report.makespanMillis / 1000
    const last = result.completions.at(-1) ?? result.wallSeconds
    const first = result.completions[0] ?? 0
    // The measured clock starts with the process: take off what came before the job (start-up),
    // lining the first completed track up with the prediction's.
    const aligned = last - (first - (report.completions.firstMillis ?? 0) / 1000)
    /** The prediction's error against a measurement: (predicted - measured) / measured. */
    const gap = (value: number) => {
      const error = Math.round((predicted / value - 1) * 100)
      return `${error > 0 ? "+" : ""}${error}%`
    }
    console.log(
      `${result.name.padEnd(18)}${`${last.toFixed(2)} s`.padStart(10)}${`${predicted.toFixed(2)} s`.padStart(11)}${gap(last).padStart(8)}${
        `${aligned.toFixed(2)} s`.padStart(10)
      }${gap(aligned).padStart(8)}${`${result.rateLimited}/${report.requests.rateLimited}`.padStart(11)}${
        `${result.requests}/${report.requests.total}`.padStart(11)
      }`
    )
  }
  console.log(
    "\nmeasured: the last track's completion in nginx's log, from the process start; aligned: less the start-up"
      + " (the first completion lined up with the prediction's); gap: (predicted - measured) / measured;"
      + " 429s and requests: measured/predicted."
  )
}

;(process.argv.includes("--fidelity") ? fidelity() : main()).catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
