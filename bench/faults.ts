/**
 * `npm run bench:faults`: the real engine (subsonic provider, live HTTP
 * client, the library on disk) downloads a few hundred tracks through the
 * fault proxy (test/support/FaultProxy.ts), which breaks a seeded random share
 * of the download and getAlbum requests in every way it knows. Prints the
 * faults injected by kind against what became of the tracks they hit:
 * completed intact, failed with a reason, corrupt (must be 0), hung (must be
 * 0); then the tracks' totals, the failure reasons, and the credentials that
 * reached another host (must be 0).
 *
 * Options: --tracks N (300), --per-album N (6), --seed N (1), --rate P (0.25:
 * the share of download and getAlbum requests broken), --adaptive (pace API
 * calls by the learned rate, as the CLI does without `--rate`; by default a
 * fixed 100/s, as `--rate 100`: the random 429 and 503 bursts here say
 * nothing about the server's real capacity, and the learned pace would slow
 * the run to a crawl while it relearns), --deadline S (900: a job still
 * running then is interrupted, its unfinished tracks counted as hung).
 * Exits 1 when anything was corrupt or hung or a credential leaked, else 0.
 */
import { Duration, Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import * as FaultProxy from "../test/support/FaultProxy.js"
import { albumId, sha256Of, startCatalog, trackId } from "../test/support/catalogServer.js"
import { formatTable, randomPlan, tally } from "../test/support/faultMix.js"
import { onDiskSettings, runJob, verdicts } from "../test/support/faultRun.js"

const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN
  return Number.isFinite(value) ? value : fallback
}

const totalTracks = Math.max(1, Math.round(option("tracks", 300)))
const perAlbum = Math.max(1, Math.round(option("per-album", 6)))
const seed = Math.round(option("seed", 1))
const rate = Math.min(1, Math.max(0, option("rate", 0.25)))
const adaptive = process.argv.includes("--adaptive")
const deadline = Duration.seconds(Math.max(1, option("deadline", 900)))

const catalog = { albums: Math.ceil(totalTracks / perAlbum), tracks: perAlbum, minBytes: 16_000, maxBytes: 96_000 }

const settings = (root: string) => onDiskSettings(root, adaptive)

const main = Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "lyra-bench-faults-"))),
    (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
  )
  const server = yield* startCatalog(catalog)
  const proxy = yield* FaultProxy.start(server.base, randomPlan(seed, rate, server.base))
  const tracks = Array.from({ length: catalog.albums }, (_, a) =>
    Array.from({ length: perAlbum }, (_, t) => {
      const id = trackId(a + 1, t + 1)
      return { album: albumId(a + 1), id, sha256: sha256Of(catalog, id) }
    })).flat()
  const refs = Array.from({ length: catalog.albums }, (_, a) => `subsonic:album:${albumId(a + 1)}`)

  console.log(
    `lyra bench:faults: ${tracks.length} tracks in ${catalog.albums} albums, seed ${seed}, ` +
      `${Math.round(rate * 100)}% of download and getAlbum requests broken, ` +
      `API pace ${adaptive ? "learned (adaptive)" : "fixed at 100/s"}`
  )
  const started = performance.now()
  const run = yield* runJob(proxy.base, refs, settings(join(dir, "library")), deadline)
  const seconds = (performance.now() - started) / 1000
  const { byTrack, strays } = verdicts(run, tracks)
  const rows = tally(proxy.log, byTrack, (album) => tracks.filter((t) => t.album === album).map((t) => t.id))

  console.log("")
  console.log(formatTable(rows))
  const count = (outcome: string) => [...byTrack.values()].filter((v) => v.outcome === outcome).length
  const corrupt = count("corrupt") + strays.length
  const hung = count("hung")
  console.log("")
  console.log(
    `tracks: ${tracks.length}; completed intact ${count("intact")}, failed with reason ${count("failed")}, ` +
      `corrupt ${corrupt}, hung ${hung}${
        run.failure !== undefined
          ? ` (the job failed: ${run.failure})`
          : run.report === undefined
          ? " (the job did not end: interrupted at the deadline)"
          : ""
      }`
  )
  console.log(
    `requests: ${proxy.log.length}, faults injected: ${proxy.log.filter((e) => e.fault !== undefined).length}; ` +
      `credentials sent to another host: ${server.stats.credentialLeaks} (of ${server.stats.mediaRequests} requests there); ` +
      `wall time ${seconds.toFixed(1)} s`
  )
  const reasons = new Map<string, number>()
  for (const verdict of byTrack.values()) {
    if (verdict.outcome !== "intact" && verdict.reason !== undefined) {
      // The same reason for another track or album reads the same.
      const key = verdict.reason.replace(/\b(al|tr)-\d+(-\d+)?\b/g, "$1-N").replace(/\d+ of \d+|after \d+/g, (m) => m.replace(/\d+/g, "N"))
      reasons.set(key, (reasons.get(key) ?? 0) + 1)
    }
  }
  if (reasons.size > 0) {
    console.log("\nwhy tracks failed (tracks):")
    for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${reason}`)
  }
  for (const path of strays) console.log(`stray final file: ${path}`)
  return corrupt === 0 && hung === 0 && server.stats.credentialLeaks === 0
})

Effect.runPromise(Effect.scoped(main)).then(
  (clean) => process.exit(clean ? 0 : 1),
  (error) => {
    console.error(`bench:faults could not run: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(2)
  }
)
