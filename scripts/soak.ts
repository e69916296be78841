/**
 * `npm run soak`: a long run of the real engine against the fault proxy, to
 * show that memory stays flat. Not part of CI.
 *
 * One process holds a generated catalog (test/support/catalogServer.ts, its
 * files computed, never stored), the fault proxy in front of it, and lyra.
 * Round after round until the time is up, lyra downloads the next albums of
 * the catalog through the proxy (a seeded random share of the download and
 * getAlbum requests broken in every way the proxy knows) into a fresh folder
 * on disk; every track is checked (intact, failed with a reason, corrupt or
 * hung), then the folder is deleted. The process's RSS is sampled throughout
 * (after a GC when node runs with --expose-gc, as the npm script does). The npm
 * script also sets MALLOC_ARENA_MAX=2, as bin/lyra.js does for the CLI.
 *
 * Prints RSS at the start, after the first round, every few minutes, and at
 * the end; then the faults injected by kind against the outcome of what they
 * hit, and the totals. Exits 1 when anything was corrupt or hung or a
 * credential reached another host.
 *
 * Options (or environment): --minutes N (LYRA_SOAK_MINUTES, 30), --seed N (1),
 * --rate P (0.2: the share of download and getAlbum requests broken),
 * --albums N (20 albums a round), --per-album N (10 tracks an album),
 * --report-minutes N (how often a sample line is printed: 1 under 10 minutes, else 5).
 */
import { Duration, Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import * as FaultProxy from "../test/support/FaultProxy.js"
import { albumId, sha256Of, startCatalog, trackId } from "../test/support/catalogServer.js"
import type { Row } from "../test/support/faultMix.js"
import { formatTable, randomPlan, tally } from "../test/support/faultMix.js"
import { onDiskSettings, runJob, verdicts } from "../test/support/faultRun.js"

const option = (name: string, env: string | undefined, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const given = at >= 0 ? process.argv[at + 1] : env === undefined ? undefined : process.env[env]
  const value = Number(given)
  return given !== undefined && Number.isFinite(value) ? value : fallback
}

const minutes = Math.max(0.1, option("minutes", "LYRA_SOAK_MINUTES", 30))
const seed = Math.round(option("seed", undefined, 1))
const rate = Math.min(1, Math.max(0, option("rate", undefined, 0.2)))
const albumsPerRound = Math.max(1, Math.round(option("albums", undefined, 20)))
const perAlbum = Math.max(1, Math.round(option("per-album", undefined, 10)))
const reportMinutes = Math.max(0.1, option("report-minutes", undefined, minutes < 10 ? 1 : 5))

/** Far more albums than any soak reaches: a round never downloads one twice. */
const catalog = { albums: 1_000_000, tracks: perAlbum, minBytes: 16_000, maxBytes: 160_000 }

const settings = (root: string) => onDiskSettings(root)

const gc = (globalThis as { gc?: () => void }).gc
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

interface Sample {
  readonly seconds: number
  readonly rss: number
  readonly heapUsed: number
  /** Memory of Buffers and other objects outside the JS heap. */
  readonly external: number
  /** Open sockets, timers and other handles: a leak of them shows here. */
  readonly resources: number
  readonly tracks: number
}

const main = Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "lyra-soak-"))),
    (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
  )
  const server = yield* startCatalog(catalog)
  const proxy = yield* FaultProxy.start(server.base, randomPlan(seed, rate, server.base))
  const started = performance.now()
  const endAt = started + minutes * 60_000
  const samples: Array<Sample> = []
  const totals = { tracks: 0, intact: 0, failed: 0, corrupt: 0, hung: 0, strays: 0, requests: 0, rounds: 0 }
  const rows = new Map<string, Row>()

  const sample = () => {
    gc?.()
    const memory = process.memoryUsage()
    const taken = {
      seconds: (performance.now() - started) / 1000,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      external: memory.external,
      resources: process.getActiveResourcesInfo().length,
      tracks: totals.tracks
    }
    samples.push(taken)
    return taken
  }
  const show = (label: string, taken: Sample) =>
    console.log(
      `${label.padEnd(14)} t=${taken.seconds.toFixed(0).padStart(5)} s  tracks ${String(taken.tracks).padStart(6)}  ` +
        `rss ${mib(taken.rss).padStart(10)}  heap ${mib(taken.heapUsed).padStart(9)}  ` +
        `external ${mib(taken.external).padStart(9)}  handles ${taken.resources}`
    )

  console.log(
    `lyra soak: ${minutes} min, rounds of ${albumsPerRound} albums x ${perAlbum} tracks, seed ${seed}, ` +
      `${Math.round(rate * 100)}% of download and getAlbum requests broken${gc === undefined ? " (no --expose-gc)" : ""}`
  )
  show("start", sample())
  let nextReport = started + reportMinutes * 60_000

  while (performance.now() < endAt) {
    const round = totals.rounds
    const first = round * albumsPerRound + 1
    const albums = Array.from({ length: albumsPerRound }, (_, i) => first + i)
    const tracks = albums.flatMap((a) =>
      Array.from({ length: perAlbum }, (_, t) => {
        const id = trackId(a, t + 1)
        return { album: albumId(a), id, sha256: sha256Of(catalog, id) }
      })
    )
    proxy.setPlan(randomPlan(seed + round, rate, server.base))
    proxy.clearLog()
    const root = join(dir, `round-${round}`)
    const run = yield* runJob(proxy.base, albums.map((a) => `subsonic:album:${albumId(a)}`), settings(root), Duration.minutes(5))
    const { byTrack, strays } = verdicts(run, tracks)
    tally(proxy.log, byTrack, (album) => tracks.filter((t) => t.album === album).map((t) => t.id), rows)
    for (const verdict of byTrack.values()) totals[verdict.outcome]++
    totals.tracks += tracks.length
    totals.strays += strays.length
    totals.requests += proxy.log.length
    totals.rounds++
    for (const path of strays) console.log(`round ${round}: stray final file ${path}`)
    if (run.failure !== undefined) console.log(`round ${round}: the job failed: ${run.failure}`)
    rmSync(root, { recursive: true, force: true })
    if (round === 0) show("after round 1", sample())
    else if (performance.now() >= nextReport) {
      show("sample", sample())
      nextReport += reportMinutes * 60_000
    }
  }
  const end = sample()
  show("end", end)

  const warm = samples[1] ?? samples[0]!
  const peak = Math.max(...samples.map((s) => s.rss))
  console.log("")
  console.log(formatTable(rows))
  console.log("")
  console.log(
    `rounds ${totals.rounds}, tracks ${totals.tracks}: completed intact ${totals.intact}, failed with reason ` +
      `${totals.failed}, corrupt ${totals.corrupt + totals.strays}, hung ${totals.hung}; requests ${totals.requests}; ` +
      `credentials sent to another host: ${server.stats.credentialLeaks}`
  )
  console.log(
    `RSS: start ${mib(samples[0]!.rss)}, after round 1 ${mib(warm.rss)}, end ${mib(end.rss)}, ` +
      `peak ${mib(peak)}; end - after round 1: ${mib(end.rss - warm.rss)}`
  )
  return totals.corrupt + totals.strays === 0 && totals.hung === 0 && server.stats.credentialLeaks === 0
})

Effect.runPromise(Effect.scoped(main)).then(
  (clean) => process.exit(clean ? 0 : 1),
  (error) => {
    console.error(`soak could not run: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(2)
  }
)
