import * as Effect from "effect/Effect"
import type { Latency } from "../layers/sim/SimProfile.js"
import type { Scenario } from "./Scenario.js"
import { simulate } from "./simulate.js"
import type { SimulationReport } from "./SimulationReport.js"
import { fromRun } from "./SimulationReport.js"

/** The settings the tuner searches. */
export interface Candidate {
  readonly albums: number
  readonly tracks: number
  readonly tracksPerAlbum: number
  readonly api: number
  /** `--rate` (and `--burst`); `null` leaves the pace to the adaptive control. */
  readonly rate: number | null
  readonly burst: number | null
}

/** One simulated candidate. */
export interface Trial {
  readonly candidate: Candidate
  readonly makespanMillis: number
  readonly rateLimited: number
  readonly failed: number
  /** Why it was tried: the phase of the search. */
  readonly phase: string
}

export interface TuneOptions {
  /** 429 answers a recommendation may draw (default 0). */
  readonly max429?: number
  /** Simulations at most, the baseline included (default 40). */
  readonly budget?: number
  /** Told of every trial as it ends, e.g. to show progress. */
  readonly onTrial?: (trial: Trial, index: number) => Effect.Effect<void>
}

export interface TuneResult {
  readonly max429: number
  /** The scenario's own settings, simulated first. */
  readonly baseline: Trial
  /** The fastest trial within the 429 allowance, smallest settings on a near tie (the baseline if none beat it). */
  readonly best: Trial
  readonly bestReport: SimulationReport
  readonly trials: ReadonlyArray<Trial>
  /** Candidates skipped because a lower bound showed they could not win. */
  readonly pruned: number
  /** Settings in the ranges searched, which a full grid would have simulated. */
  readonly gridSize: number
  /** The lower bounds the search used, at the best settings. */
  readonly bounds: { readonly rateMillis: number | null; readonly bandwidthMillis: number | null }
}

const meanLatency = (latency: Latency) => {
  switch (latency._tag) {
    case "Fixed":
      return latency.millis
    case "Uniform":
      return (latency.min + latency.max) / 2
    case "LogNormal":
      return latency.median * Math.exp((latency.sigma * latency.sigma) / 2)
  }
}

/** A latency most calls beat: the 95th percentile where the distribution has a tail. */
const highLatency = (latency: Latency) => {
  switch (latency._tag) {
    case "Fixed":
      return latency.millis
    case "Uniform":
      return latency.max
    case "LogNormal":
      return latency.median * Math.exp(1.645 * latency.sigma)
  }
}

const keyOf = (c: Candidate) => `${c.albums}/${c.tracks}/${c.tracksPerAlbum}/${c.api}/${c.rate}/${c.burst}`

/** Within 1%: near enough that smaller settings (less load on the service) win. */
const nearTie = (a: number, b: number) => a <= b * 1.01

const size = (c: Candidate) => c.tracks * 4 + c.albums * 2 + c.api + (c.rate === null ? 0 : 1)

/**
 * Searches albums, tracks, API concurrency and `--rate` for the smallest
 * makespan with at most `max429` rate limits, by simulating candidates (each
 * a whole job in virtual time) rather than a full grid. The structure of the
 * problem guides it:
 *
 * - the service's rate limit bounds the makespan below by requests ÷ rate,
 *   so pacing just under it is tried first, and a slower pace whose bound is
 *   already worse than the best found is never simulated;
 * - per-connection bandwidth bounds it by bytes ÷ (bandwidth × tracks), which
 *   prunes too few tracks; Little's law (rate × time per track) says how many
 *   tracks keep the pace busy, where the track search starts;
 * - albums need only keep the track level fed, and API calls in flight only
 *   cover the pace times the latency, so both are searched from those floors.
 */
export const tune = (base: Scenario, options: TuneOptions = {}) =>
  Effect.gen(function*() {
    const max429 = options.max429 ?? 0
    const budget = Math.max(2, options.budget ?? 40)
    const { profile } = base
    const cache = new Map<string, Trial>()
    const trials: Array<Trial> = []
    let pruned = 0
    let bestReport: SimulationReport | undefined
    let best: Trial | undefined

    const scenarioOf = (c: Candidate): Scenario => ({
      ...base,
      settings: { ...base.settings, albums: c.albums, tracks: c.tracks, tracksPerAlbum: c.tracksPerAlbum },
      limits: {
        ...base.limits,
        apiConcurrency: c.api,
        rate: c.rate === null ? undefined : { perSecond: c.rate, burst: c.burst ?? 1 }
      }
    })
    const better = (trial: Trial) =>
      trial.rateLimited <= max429 && trial.failed <= (baselineFailed ?? Infinity) && (
        best === undefined || trial.makespanMillis < best.makespanMillis * 0.99 ||
        (nearTie(trial.makespanMillis, best.makespanMillis) && size(trial.candidate) < size(best.candidate))
      )
    let baselineFailed: number | undefined

    const evaluate = (c: Candidate, phase: string) =>
      Effect.gen(function*() {
        const known = cache.get(keyOf(c))
        if (known !== undefined) return known
        if (trials.length >= budget) return undefined
        const report = fromRun(yield* simulate(scenarioOf(c)))
        const trial: Trial = {
          candidate: c,
          makespanMillis: report.makespanMillis,
          rateLimited: report.requests.rateLimited,
          failed: report.failed,
          phase
        }
        cache.set(keyOf(c), trial)
        trials.push(trial)
        if (options.onTrial !== undefined) yield* options.onTrial(trial, trials.length)
        if (baselineFailed !== undefined && better(trial)) {
          best = trial
          bestReport = report
        }
        return { ...trial, report }
      })

    // The baseline: the scenario's own settings. It also measures the job's shape.
    const own: Candidate = {
      albums: base.settings.albums,
      tracks: base.settings.tracks,
      tracksPerAlbum: base.settings.tracksPerAlbum,
      api: base.limits.apiConcurrency,
      rate: base.limits.rate?.perSecond ?? null,
      burst: base.limits.rate?.burst ?? null
    }
    const first = (yield* evaluate(own, "baseline"))!
    const baseline = cache.get(keyOf(own))!
    baselineFailed = baseline.failed
    const report = (first as Trial & { readonly report: SimulationReport }).report
    if (baseline.rateLimited <= max429) {
      best = baseline
      bestReport = report
    }

    // The job's shape, from the baseline.
    const tracks = Math.max(1, report.catalog.tracks)
    const bytes = report.catalog.bytes
    const metadata = Object.entries(report.requests.byEndpoint)
      .filter(([endpoint]) => endpoint !== "source" && endpoint !== "stream")
      .reduce((sum, [, count]) => sum + count, 0)
    const needed = Math.max(1, report.requests.total - report.requests.rateLimited)
    const perTrack = Math.max(1, (needed - metadata) / tracks)
    const albumSize = Math.max(1, tracks / Math.max(1, report.catalog.groups))
    const latency = meanLatency(profile.latency)
    const bandwidth = profile.bandwidth
    const trackMillis = 2 * latency + (Number.isFinite(bandwidth) ? bytes / tracks / bandwidth * 1000 : 0)
    const maxTracks = Math.max(1, Math.min(64, Number.isFinite(profile.connections) ? profile.connections - 2 : 64))

    const rateBound = (c: Candidate) => {
      const rate = Math.min(profile.rate, c.rate ?? Infinity)
      if (!Number.isFinite(rate)) return 0
      const burst = c.rate === null ? profile.burst : Math.min(profile.burst, c.burst ?? 1)
      return Math.max(0, needed - burst) * 1000 / rate
    }
    const bandwidthBound = (c: Candidate) => {
      const total = Math.min(bandwidth * Math.min(c.tracks, profile.connections), base.limits.maxBandwidth ?? Infinity)
      return Number.isFinite(total) && total > 0 ? bytes * 1000 / total : 0
    }
    const lowerBound = (c: Candidate) => Math.max(rateBound(c), bandwidthBound(c))
    /** Simulates `c` unless its lower bound already loses to the best. */
    const consider = (c: Candidate, phase: string) =>
      Effect.suspend(() => {
        if (cache.has(keyOf(c))) return Effect.succeed(cache.get(keyOf(c)))
        if (best !== undefined && lowerBound(c) >= best.makespanMillis) {
          pruned++
          return Effect.succeed(undefined)
        }
        return evaluate(c, phase)
      })

    /** Tracks that keep a pace of `rate` requests/s busy: Little's law, with a margin for latency tails. */
    const tracksFor = (rate: number) =>
      Math.max(1, Math.min(maxTracks, Math.ceil((rate / perTrack) * trackMillis / 1000 * 1.25)))
    const albumsFor = (t: number) => Math.max(1, Math.ceil(t / albumSize) + 1)
    const apiFor = (rate: number) =>
      Math.max(2, Math.min(64, Math.ceil((rate * highLatency(profile.latency)) / 1000 * 1.5) + 1))
    const withTracks = (c: Candidate, t: number): Candidate => ({
      ...c,
      tracks: t,
      tracksPerAlbum: t,
      albums: Math.max(c.albums, albumsFor(t))
    })

    // 1. The pace: the service's rate first, slower only while it draws too many 429s.
    const serviceRate = profile.rate
    const paces: Array<{ readonly rate: number | null; readonly burst: number | null }> = Number.isFinite(serviceRate)
      ? [1, 0.95, 0.9, 0.8, 0.65, 0.5].flatMap((share) => {
        const rate = Math.max(0.1, Math.floor(serviceRate * share * 100) / 100)
        return [
          { rate, burst: Math.max(1, profile.burst) },
          { rate, burst: Math.max(1, Math.min(profile.burst, Math.round(rate / 10))) }
        ]
      })
      : [{ rate: null, burst: null }]
    const demandRate = Number.isFinite(serviceRate) ? serviceRate : (maxTracks * perTrack * 1000) / trackMillis
    let pace: { readonly rate: number | null; readonly burst: number | null } | undefined
    for (const candidatePace of paces) {
      const rate = candidatePace.rate ?? demandRate
      const t = tracksFor(rate)
      const c: Candidate = { ...withTracks({ ...own, ...candidatePace }, t), albums: albumsFor(t), api: apiFor(rate) }
      if (best !== undefined && rateBound(c) >= best.makespanMillis) {
        pruned++
        break // slower paces only have higher bounds
      }
      const trial = yield* consider(c, "pace")
      if (trial !== undefined && trial.rateLimited <= max429) {
        pace = candidatePace
        break
      }
    }

    // 2. Tracks: up from Little's estimate while it pays, then down while it costs nothing.
    const start = best
    if (pace !== undefined && start !== undefined) {
      let current = start.candidate
      for (let t = Math.ceil(current.tracks * 1.5); t <= maxTracks; t = Math.ceil(t * 1.5)) {
        const before = best!.makespanMillis
        yield* consider(withTracks(current, t), "tracks up")
        if (!(best!.makespanMillis < before * 0.98)) break
        current = best!.candidate
      }
      current = best!.candidate
      for (let t = Math.floor(current.tracks / 1.25); t >= 1 && t < current.tracks; t = Math.floor(t / 1.25)) {
        const trial = yield* consider({ ...withTracks(current, t), albums: albumsFor(t) }, "tracks down")
        if (trial === undefined || trial.rateLimited > max429 || !nearTie(trial.makespanMillis, best!.makespanMillis)) break
        current = best!.candidate
      }

      // 3. Albums and API calls: the smallest that lose nothing.
      for (const phase of ["albums", "api"] as const) {
        current = best!.candidate
        for (let step = 1; step <= 3; step++) {
          const smaller: Candidate = phase === "albums"
            ? { ...current, albums: current.albums - step }
            : { ...current, api: current.api - step }
          // Fewer API calls in flight than the pace times a slow round trip would leave no room for latency's tail.
          const apiFloor = Math.max(1, Math.ceil(((current.rate ?? demandRate) * highLatency(profile.latency)) / 1000))
          if (smaller.albums < 1 || smaller.api < apiFloor) break
          const trial = yield* consider(smaller, phase)
          if (trial === undefined || trial.rateLimited > max429 || !nearTie(trial.makespanMillis, best!.makespanMillis)) {
            // Maybe more helps instead.
            if (step === 1) {
              yield* consider(
                phase === "albums" ? { ...current, albums: current.albums + 1 } : { ...current, api: current.api * 2 },
                phase
              )
            }
            break
          }
        }
      }

      // 4. The same settings with the pace learned instead of set.
      if (best!.candidate.rate !== null) yield* consider({ ...best!.candidate, rate: null, burst: null }, "adaptive")
    }

    const chosen = best ?? baseline
    const rates = paces.length + 1
    return {
      max429,
      baseline,
      best: chosen,
      bestReport: bestReport ?? report,
      trials,
      pruned,
      gridSize: rates * maxTracks * 8 * 16,
      bounds: {
        rateMillis: Number.isFinite(profile.rate) ? Math.round(rateBound(chosen.candidate)) : null,
        bandwidthMillis: Number.isFinite(bandwidth) ? Math.round(bandwidthBound(chosen.candidate)) : null
      }
    } satisfies TuneResult
  })
