import type { Quality } from "../domain/Quality.js"
import * as SimProfile from "../layers/sim/SimProfile.js"
import { occupancy } from "./Occupancy.js"
import type { SimulationRun } from "./simulate.js"
import { downloadEnds } from "./Timeline.js"

/** How busy one concurrency level was. */
export interface LevelReport {
  readonly name: "albums" | "tracks" | "api" | "transfers"
  /** Its limit, `null` where there is none of its own. */
  readonly limit: number | null
  readonly peak: number
  /** In flight on average over the job. */
  readonly mean: number
  /** `mean / limit`, 0..1; `null` without a limit. */
  readonly utilization: number | null
  /** The mean in flight per slice of `bucketMillis`, from the start. */
  readonly series: ReadonlyArray<number>
}

/**
 * What `lyra simulate` predicts for one scenario, as plain data: the same
 * inputs and seed give the same report, so it prints the same bytes.
 * Times are whole virtual milliseconds; unlimited values are `null`.
 */
export interface SimulationReport {
  readonly inputs: ReadonlyArray<string>
  readonly service: {
    /** The profile in `--sim` syntax. */
    readonly profile: string
    readonly seed: number
    readonly rateLimit: number | null
    readonly burst: number
    readonly retryAfter: boolean
    readonly bandwidth: number | null
    readonly connections: number | null
    readonly errorRate: number
  }
  readonly settings: {
    readonly albums: number
    readonly tracks: number
    readonly tracksPerAlbum: number
    readonly api: number
    /** `--rate` and its burst; `null` when the pace is learned (adaptive). */
    readonly rate: number | null
    readonly burst: number | null
    readonly retries: number
    readonly maxBandwidth: number | null
    readonly quality: Quality
  }
  /** Albums (playlists, singles), distinct tracks, and their placements (a track on a compilation too is placed twice). */
  readonly catalog: { readonly groups: number; readonly tracks: number; readonly placements: number; readonly bytes: number }
  readonly makespanMillis: number
  /** When tracks finished, from the start: the first, the median and the last. */
  readonly completions: { readonly firstMillis: number | null; readonly medianMillis: number | null; readonly lastMillis: number | null }
  readonly done: number
  readonly skipped: number
  readonly failed: number
  readonly requests: {
    readonly total: number
    readonly byEndpoint: Readonly<Record<string, number>>
    /** 429 answers. */
    readonly rateLimited: number
    /** 503s, resets and broken transfers. */
    readonly faults: number
    readonly notFound: number
  }
  readonly retries: number
  readonly cooldowns: { readonly count: number; readonly millis: number }
  readonly throughputBytesPerSecond: number
  /**
   * What no settings could beat: the service's rate limit over the requests the
   * job needs (less the burst), and its bandwidth over the bytes with as many
   * transfers as `--tracks` allows. `ratio` is the makespan over the larger.
   */
  readonly bounds: {
    readonly rateMillis: number | null
    readonly bandwidthMillis: number | null
    readonly lowerMillis: number
    readonly ratio: number | null
  }
  readonly bucketMillis: number
  readonly levels: ReadonlyArray<LevelReport>
  /** Failed items with their reasons (the first 50). */
  readonly failures: ReadonlyArray<{ readonly item: string; readonly reason: string }>
}

const round = (value: number, digits = 3) => {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

const finite = (value: number): number | null => Number.isFinite(value) ? value : null

/** Slices of the utilization series. */
export const seriesBuckets = 60

/** The tracks a job fetched once each: a placement id is its track's ref, then `#2`, `#3`... */
const uniqueTrackBytes = (run: SimulationRun) => {
  const sizes = new Map<string, number>()
  for (const span of run.timeline.tracks) sizes.set(span.item.replace(/#\d+$/, ""), span.sizeBytes ?? 0)
  let bytes = 0
  for (const size of sizes.values()) bytes += size
  return { tracks: sizes.size, bytes }
}

const completionsOf = (run: SimulationRun, start: number) => {
  const times = run.timeline.tracks.flatMap((track) =>
    track.state === "done" && track.finishedAt !== undefined ? [track.finishedAt - start] : []
  ).sort((a, b) => a - b)
  const at = (index: number) => times.length === 0 ? null : Math.round(times[Math.min(times.length - 1, index)]!)
  return { firstMillis: at(0), medianMillis: at(Math.floor(times.length / 2)), lastMillis: at(times.length - 1) }
}

export const fromRun = (run: SimulationRun): SimulationReport => {
  const { profile, settings, limits, retry } = run.scenario
  const { timeline, stats, requests } = run
  const start = timeline.startedAt ?? 0
  const end = timeline.finishedAt ?? start
  const makespan = end - start
  const bucket = makespan / seriesBuckets

  const intervals = {
    albums: [] as Array<readonly [number, number]>,
    tracks: [] as Array<readonly [number, number]>,
    api: [] as Array<readonly [number, number]>,
    transfers: [] as Array<readonly [number, number]>
  }
  for (const group of timeline.groups) {
    if (group.startedAt !== undefined) intervals.albums.push([group.startedAt, group.finishedAt ?? end])
  }
  // The track level holds a track while it downloads; its post-processing runs outside it.
  for (const [track, downloaded] of downloadEnds(timeline.tracks, requests)) {
    intervals.tracks.push([track.startedAt!, Math.min(downloaded, end)])
  }
  const byEndpoint: Record<string, number> = {}
  let needed = 0
  for (const request of requests) {
    byEndpoint[request.endpoint] = (byEndpoint[request.endpoint] ?? 0) + 1
    if (request.status !== 429) needed++
    const span = [request.at, request.doneAt ?? end] as const
    if (request.endpoint === "stream") intervals.transfers.push(span)
    else intervals.api.push(span)
  }
  const level = (name: LevelReport["name"], limit: number | null): LevelReport => {
    const use = occupancy(intervals[name], start, end, seriesBuckets)
    return {
      name,
      limit,
      peak: use.peak,
      mean: round(use.mean),
      utilization: limit === null ? null : round(use.mean / limit),
      series: use.series.map((value) => round(value))
    }
  }

  const catalog = uniqueTrackBytes(run)
  const rateMillis = Number.isFinite(profile.rate) ? Math.max(0, needed - profile.burst) * 1000 / profile.rate : null
  const perTransfer = Math.min(profile.bandwidth * Math.min(settings.tracks, profile.connections), limits.maxBandwidth ?? Infinity)
  const bandwidthMillis = Number.isFinite(perTransfer) && perTransfer > 0 ? catalog.bytes * 1000 / perTransfer : null
  const lower = Math.max(rateMillis ?? 0, bandwidthMillis ?? 0)

  let cooledMillis = 0
  let coolingUntil = Number.NEGATIVE_INFINITY
  for (const cooldown of timeline.cooldowns) {
    const from = Math.max(cooldown.from, coolingUntil)
    if (cooldown.until > from) cooledMillis += cooldown.until - from
    coolingUntil = Math.max(coolingUntil, cooldown.until)
  }

  const failures: Array<{ item: string; reason: string }> = []
  for (const track of timeline.tracks) {
    if (track.state === "failed" && failures.length < 50) failures.push({ item: track.item, reason: track.reason ?? "" })
  }
  for (const item of timeline.unstarted) {
    if (failures.length < 50) failures.push({ item: item.item, reason: item.reason ?? "" })
  }

  return {
    inputs: run.scenario.inputs,
    service: {
      profile: SimProfile.describe(profile),
      seed: profile.seed,
      rateLimit: finite(profile.rate),
      burst: profile.burst,
      retryAfter: profile.retryAfter,
      bandwidth: finite(profile.bandwidth),
      connections: finite(profile.connections),
      errorRate: profile.errorRate
    },
    settings: {
      albums: settings.albums,
      tracks: settings.tracks,
      tracksPerAlbum: settings.tracksPerAlbum,
      api: limits.apiConcurrency,
      rate: limits.rate?.perSecond ?? null,
      burst: limits.rate?.burst ?? null,
      retries: retry.retries,
      maxBandwidth: limits.maxBandwidth ?? null,
      quality: settings.quality
    },
    catalog: {
      groups: timeline.groups.length,
      tracks: catalog.tracks,
      placements: timeline.tracks.length,
      bytes: catalog.bytes
    },
    makespanMillis: Math.round(makespan),
    completions: completionsOf(run, start),
    done: run.report.done,
    skipped: run.report.skipped,
    failed: run.report.failed,
    requests: {
      total: stats.requests,
      byEndpoint,
      rateLimited: stats.rateLimited,
      faults: stats.faults,
      notFound: stats.notFound
    },
    retries: timeline.retries,
    cooldowns: { count: timeline.cooldowns.length, millis: Math.round(cooledMillis) },
    throughputBytesPerSecond: makespan > 0 ? Math.round(run.report.bytes * 1000 / makespan) : 0,
    bounds: {
      rateMillis: rateMillis === null ? null : Math.round(rateMillis),
      bandwidthMillis: bandwidthMillis === null ? null : Math.round(bandwidthMillis),
      lowerMillis: Math.round(lower),
      ratio: lower > 0 ? round(makespan / lower, 2) : null
    },
    bucketMillis: round(bucket, 1),
    levels: [
      level("albums", settings.albums),
      level("tracks", settings.tracks),
      level("api", limits.apiConcurrency),
      level("transfers", null)
    ],
    failures
  }
}
