/**
 * `npm run bench:sim`: lyra's concurrency against OrpheusDL's one-at-a-time,
 * on the simulated provider with its default profile.
 *
 * Times `lyra download sim:artist:1` with the default limits and with
 * `--albums 1 --tracks 1 --api 1`, several runs each into fresh folders, after
 * one uncounted warm-up run that writes the code cache, and prints the median
 * wall time, the ratio and each configuration's peak RSS.
 * Targets (issue 2): a speedup of at least 4x, peak RSS under 150 MB.
 * It is a benchmark, not a test: it always exits 0 unless it cannot run at all.
 *
 * Options: --runs N (default 5, as the machines are shared and noisy), --input REF (default
 * sim:artist:1), --rss auto|time|proc (how peak RSS is measured; auto prefers GNU time).
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { packageRoot } from "./packageRoot.js"

interface Config {
  readonly name: string
  readonly flags: ReadonlyArray<string>
}

interface Sample {
  readonly wallMillis: number
  /** The job's own time, from the summary's "written: … in <time>" line: wall time less start-up. */
  readonly jobMillis: number | undefined
  /** Peak resident set size in bytes, when it could be measured. */
  readonly peakRss: number | undefined
  readonly code: number | null
}

const configs: ReadonlyArray<Config> = [
  { name: "default", flags: [] },
  { name: "sequential", flags: ["--albums", "1", "--tracks", "1", "--api", "1"] }
]

const targets = { speedup: 4, rssBytes: 150 * 1024 * 1024 }

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback
}

const runs = Math.max(1, Number.parseInt(option("runs", "5"), 10) || 5)
const input = option("input", "sim:artist:1")

const root = packageRoot()
const bin = join(root, "bin", "lyra.js")
if (!existsSync(join(root, "dist", "bundle", "bin.cjs"))) {
  console.error(`bench: ${join(root, "dist", "bundle", "bin.cjs")} is missing; run \`npm run build\` first`)
  process.exit(1)
}

// GNU time reports the child's exact peak RSS (getrusage). Without it (a minimal
// Debian has no `time` package), poll /proc/<pid>/status VmHWM, the kernel's own
// high-water mark, which only misses growth in the last poll interval.
const rssOption = option("rss", "auto") // auto | time | proc
const gnuTime = rssOption === "proc" ? undefined : ["/usr/bin/time", "/bin/time"].find((path) => existsSync(path))
const hasProc = existsSync("/proc/self/status")
const rssMethod = gnuTime !== undefined ? `${gnuTime} -f %M` : hasProc ? "/proc/<pid>/status VmHWM, polled" : "unavailable"

/** The environment without LYRA_SIM_*: the benchmark uses the sim's default profile. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("LYRA_SIM_")))

/** `850ms`, `3.2s`, `1m 05s` or `1h 02m`, as the summary prints durations. */
const parseDuration = (text: string): number | undefined => {
  const match = /^(?:(\d+)h (\d+)m|(\d+)m (\d+)s|(\d+(?:\.\d+)?)s|(\d+)ms)$/.exec(text)
  if (match === null) return undefined
  const [, h, hm, m, ms, s, millis] = match
  if (h !== undefined) return (Number(h) * 60 + Number(hm)) * 60_000
  if (m !== undefined) return Number(m) * 60_000 + Number(ms) * 1000
  if (s !== undefined) return Number(s) * 1000
  return Number(millis)
}

const jobMillisOf = (stdout: string): number | undefined => {
  const match = /written: .* in (\S+(?: \S+[sm])?)/.exec(stdout)
  return match === null ? undefined : parseDuration(match[1]!.replace(/[,)]$/, ""))
}

const readHwm = (pid: number): number | undefined => {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined // already gone
  }
}

const runOnce = (config: Config): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "lyra-bench-"))
    const timeFile = join(dir, "time.txt")
    const lyra = [bin, "download", input, "--out", join(dir, "library"), "--quiet", ...config.flags]
    const [command, args] = gnuTime !== undefined
      // Run as a user does: bin/lyra.js through its shebang (and its node flags).
      ? [gnuTime, ["-f", "%M", "-o", timeFile, ...lyra]]
      : [lyra[0]!, lyra.slice(1)]
    let peak: number | undefined
    let stderr = ""
    let stdout = ""
    const started = performance.now()
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    const poll = gnuTime === undefined && hasProc && child.pid !== undefined
      ? setInterval(() => {
        const hwm = readHwm(child.pid!)
        if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm)
      }, 10)
      : undefined
    child.on("error", (error) => {
      if (poll !== undefined) clearInterval(poll)
      rmSync(dir, { recursive: true, force: true })
      reject(error)
    })
    child.on("exit", (code) => {
      const wallMillis = performance.now() - started
      if (poll !== undefined) clearInterval(poll)
      if (gnuTime !== undefined) {
        const kb = existsSync(timeFile) ? /(\d+)\s*$/.exec(readFileSync(timeFile, "utf8").trim()) : null
        peak = kb === null ? undefined : Number(kb[1]) * 1024
      }
      rmSync(dir, { recursive: true, force: true })
      if (code !== 0) process.stderr.write(`bench: ${config.name} run exited ${code}\n${stderr}`)
      resolve({ wallMillis, jobMillis: jobMillisOf(stdout), peakRss: peak, code })
    })
  })

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const seconds = (millis: number) => `${(millis / 1000).toFixed(2)} s`
const megabytes = (bytes: number | undefined) => bytes === undefined ? "n/a" : `${(bytes / (1024 * 1024)).toFixed(1)} MB`
const pad = (text: string, width: number) => text.padEnd(width)
const padLeft = (text: string, width: number) => text.padStart(width)

const main = async () => {
  console.log(`lyra bench:sim — ${input}, ${runs} run(s) per configuration, node ${process.version}`)
  console.log(`peak RSS via ${rssMethod}\n`)
  // `npm run build` leaves no code cache, and the first run after it writes one, as a user's first run
  // after an install does: it is slower, and it would fall in whichever configuration runs first.
  const warmUp = await runOnce(configs[0]!)
  console.log(
    `  warm-up ${pad(configs[0]!.name, 10)} wall ${padLeft(seconds(warmUp.wallMillis), 8)}  rss ${
      padLeft(megabytes(warmUp.peakRss), 8)
    }  (writes the code cache: its time is not counted, its RSS is)`
  )
  const samples = new Map<string, Array<Sample>>(configs.map((c) => [c.name, []]))
  // Interleaved, so that drift in the machine's load touches both configurations alike.
  for (let run = 1; run <= runs; run++) {
    for (const config of configs) {
      const sample = await runOnce(config)
      samples.get(config.name)!.push(sample)
      console.log(
        `  run ${run} ${pad(config.name, 10)} wall ${padLeft(seconds(sample.wallMillis), 8)}  job ${
          padLeft(sample.jobMillis === undefined ? "n/a" : seconds(sample.jobMillis), 8)
        }  rss ${
          padLeft(megabytes(sample.peakRss), 8)
        }${sample.code === 0 ? "" : `  (exit ${sample.code})`}`
      )
    }
  }

  const rows = configs.map((config) => {
    const list = samples.get(config.name)!
    const rss = list.flatMap((s) => s.peakRss === undefined ? [] : [s.peakRss])
    const job = list.flatMap((s) => s.jobMillis === undefined ? [] : [s.jobMillis])
    return {
      config,
      wall: median(list.map((s) => s.wallMillis)),
      min: Math.min(...list.map((s) => s.wallMillis)),
      max: Math.max(...list.map((s) => s.wallMillis)),
      job: job.length === list.length ? median(job) : undefined,
      peak: rss.length === 0 ? undefined : Math.max(...rss),
      failed: list.filter((s) => s.code !== 0).length
    }
  })

  const cell = (millis: number | undefined) => millis === undefined ? "n/a" : seconds(millis)
  console.log("")
  console.log(
    `${pad("configuration", 12)}${padLeft("wall", 9)}${padLeft("min", 9)}${padLeft("max", 9)}${padLeft("job", 9)}${
      padLeft("peak RSS", 11)
    }  flags`
  )
  for (const row of rows) {
    console.log(
      `${pad(row.config.name, 12)}${padLeft(seconds(row.wall), 9)}${padLeft(seconds(row.min), 9)}${
        padLeft(seconds(row.max), 9)
      }${padLeft(cell(row.job), 9)}${padLeft(megabytes(row.peak), 11)}  ${row.config.flags.join(" ") || "(defaults)"}${
        row.failed > 0 ? `  [${row.failed} run(s) failed]` : ""
      }`
    )
  }
  console.log("(wall: median process time, start-up included; job: median time the summary reports)")

  const [fast, slow] = rows
  const speedup = slow!.wall / fast!.wall
  const jobSpeedup = slow!.job === undefined || fast!.job === undefined ? undefined : slow!.job / fast!.job
  const peak = Math.max(...rows.map((r) => r.peak ?? 0), warmUp.peakRss ?? 0)
  const failedRuns = rows.reduce((n, r) => n + r.failed, 0)
  const verdict = (ok: boolean) => failedRuns > 0 ? `not judged, ${failedRuns} run(s) failed` : ok ? "ok" : "MISSED"
  console.log("")
  console.log(
    `speedup, sequential / default: ${speedup.toFixed(2)}x wall${
      jobSpeedup === undefined ? "" : `, ${jobSpeedup.toFixed(2)}x job`
    }   target >= ${targets.speedup}x: ${verdict(speedup >= targets.speedup)}`
  )
  console.log(
    `peak RSS, worst run:           ${megabytes(peak)}   target < ${megabytes(targets.rssBytes)}: ${
      rows.some((r) => r.peak === undefined) ? "not measured" : verdict(peak < targets.rssBytes)
    }`
  )
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
