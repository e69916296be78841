import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Console, Duration, Effect } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { run } from "../src/cli/Cli.js"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import { defaultShape } from "../src/layers/sim/SimCatalog.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { download } from "../src/programs/download.js"
import { renderGantt } from "../src/simulation/GanttSvg.js"
import { occupancy } from "../src/simulation/Occupancy.js"
import { renderSummary } from "../src/simulation/renderSummary.js"
import * as Scenario from "../src/simulation/Scenario.js"
import { simulate } from "../src/simulation/simulate.js"
import { fromRun } from "../src/simulation/SimulationReport.js"
import { tune } from "../src/simulation/tune.js"
import { makespan, runVirtual, testEngine } from "./support/testEngine.js"

/** Runs `lyra <args>` in process with a console that records stdout and stderr, and no LYRA_* environment. */
const lyra = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const text = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")
    const base = yield* Effect.console
    const console: Console.Console = {
      ...base,
      log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void out.push(text(args))),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void err.push(text(args)))
    }
    const code = yield* run(["node", "lyra", ...args]).pipe(
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
    )
    return { code, out: out.join("\n"), err: err.join("\n") }
  }).pipe(Effect.provide(NodeContext.layer))

/** A small rate-limited service: quick to simulate, slow enough to be worth tuning. */
const small = SimProfile.make({
  ...Scenario.defaultProfile,
  rate: 10,
  burst: 5,
  shape: { ...defaultShape, artists: 2, playlists: 0 }
})

describe("simulate: the download program on the sim, in virtual time", () => {
  it.effect("predicts the exact makespans the engine measures under TestClock", () =>
    Effect.gen(function*() {
      const profile = SimProfile.exact({ bandwidth: 4_000_000, payload: "virtual" })
      for (const tracks of [1, 3, 10]) {
        const settings = { ...defaultJobSettings, tracks, tracksPerAlbum: tracks }
        // No tagger on either side: the engine tests run the program without post-processing.
        const report = fromRun(yield* simulate(Scenario.make({ profile, inputs: ["sim:album:11"], settings, tagging: false })))
        const measured = yield* runVirtual(
          Effect.zipRight(download(["sim:album:11"], settings), Effect.flatMap(ProgressRecorder, (r) => r.events)).pipe(
            Effect.provide(testEngine({ profile }))
          ),
          profile.seed,
          Duration.millis(10)
        )
        assert.strictEqual(report.done, 10)
        assert.strictEqual(report.makespanMillis, makespan(measured), `--tracks ${tracks}`)
      }
    }))

  it.effect("reports every track, the requests, the bounds and each level within its limit", () =>
    Effect.gen(function*() {
      const report = fromRun(yield* simulate(Scenario.make({ profile: small })))
      assert.isAbove(report.catalog.tracks, 30)
      assert.strictEqual(report.done + report.skipped + report.failed, report.catalog.placements)
      assert.strictEqual(report.failed, 0)
      assert.strictEqual(
        Object.values(report.requests.byEndpoint).reduce((a, b) => a + b, 0),
        report.requests.total
      )
      assert.isAtLeast(report.makespanMillis, report.bounds.lowerMillis)
      for (const level of report.levels) {
        assert.strictEqual(level.series.length, 60)
        if (level.limit !== null) assert.isAtMost(level.peak, level.limit, level.name)
        assert.isAtMost(level.mean, level.peak)
      }
    }))

  it.effect("the same scenario gives the same report, summary and chart, byte for byte", () =>
    Effect.gen(function*() {
      const once = Effect.map(simulate(Scenario.make({ profile: small })), (run) => {
        const report = fromRun(run)
        return { json: JSON.stringify(report), text: renderSummary(report), svg: renderGantt(run, report) }
      })
      const first = yield* once
      const second = yield* once
      assert.strictEqual(second.json, first.json)
      assert.strictEqual(second.text, first.text)
      assert.strictEqual(second.svg, first.svg)
      assert.match(first.svg, /^<svg [^>]*>[\s\S]*<\/svg>\n$/)
      // Another seed is another run.
      const other = fromRun(yield* simulate(Scenario.make({ profile: { ...small, seed: 2 } })))
      assert.notStrictEqual(JSON.stringify(other), first.json)
    }))

  it.effect("--rate at the service's limit draws no 429 where the defaults draw many", () =>
    Effect.gen(function*() {
      const defaults = fromRun(yield* simulate(Scenario.make({ profile: small })))
      const paced = fromRun(yield* simulate(Scenario.make({
        profile: small,
        limits: { apiConcurrency: 10, rate: { perSecond: 10, burst: 5 } }
      })))
      assert.isAbove(defaults.requests.rateLimited, 0)
      assert.strictEqual(paced.requests.rateLimited, 0)
      assert.strictEqual(paced.failed, 0)
    }))
})

describe("occupancy", () => {
  it("sweeps intervals into a peak, a mean and a series; one ending where another starts does not overlap", () => {
    const use = occupancy([[0, 10], [10, 20], [5, 15], [30, 50]], 0, 40, 4)
    assert.strictEqual(use.peak, 2)
    // 10 + 10 + 10 + 10 covered of 40 ms.
    assert.strictEqual(use.mean, 1)
    assert.deepStrictEqual(use.series, [1.5, 1.5, 0, 1])
  })
})

describe("simulate --tune", () => {
  it.effect("finds faster settings with no 429, in far fewer simulations than a grid, and says how to use them", () =>
    Effect.gen(function*() {
      const result = yield* tune(Scenario.make({ profile: small }))
      assert.strictEqual(result.best.rateLimited, 0)
      assert.isBelow(result.best.makespanMillis, result.baseline.makespanMillis)
      assert.isAtMost(result.trials.length, 40)
      assert.isBelow(result.trials.length * 100, result.gridSize)
      // Nothing beats the bound; the search gets close to it.
      const bound = Math.max(result.bounds.rateMillis ?? 0, result.bounds.bandwidthMillis ?? 0)
      assert.isAtLeast(result.best.makespanMillis, bound)
      assert.isAtMost(result.best.makespanMillis, bound * 1.25)
      // Every trial is what simulating its settings gives.
      const again = fromRun(yield* simulate(Scenario.make({
        profile: small,
        settings: {
          ...defaultJobSettings,
          albums: result.best.candidate.albums,
          tracks: result.best.candidate.tracks,
          tracksPerAlbum: result.best.candidate.tracksPerAlbum
        },
        limits: {
          apiConcurrency: result.best.candidate.api,
          rate: result.best.candidate.rate === null
            ? undefined
            : { perSecond: result.best.candidate.rate, burst: result.best.candidate.burst ?? 1 }
        }
      })))
      assert.strictEqual(again.makespanMillis, result.best.makespanMillis)
    }), 300_000)
})

describe("lyra simulate", () => {
  const quick = ["--sim", "artists=2", "--sim", "rate-limit=10/s,burst=5", "--sim", "tracks=3..6"]

  it.effect("prints a summary; --json the same as data; the same output every time", () =>
    Effect.gen(function*() {
      const text = yield* lyra(["simulate", ...quick])
      assert.strictEqual(text.code, 0, text.err)
      assert.match(text.out, /^lyra simulate: predicted in virtual time \(seed 1\)/)
      assert.match(text.out, /\nmakespan {2}\S+/)
      assert.match(text.out, /\ntracks +5 +5 /)
      assert.strictEqual((yield* lyra(["simulate", ...quick])).out, text.out)
      const json = yield* lyra(["simulate", "--json", ...quick, "--albums", "2", "--rate", "9", "--burst", "3"])
      assert.strictEqual(json.code, 0, json.err)
      const report = JSON.parse(json.out)
      assert.strictEqual(report.settings.albums, 2)
      assert.strictEqual(report.settings.rate, 9)
      assert.strictEqual(report.service.rateLimit, 10)
      assert.strictEqual(report.requests.rateLimited, 0)
    }))

  it.effect("--quality predicts the job at that tier: MP3s are fewer bytes, and the settings say so", () =>
    Effect.gen(function*() {
      const lossless = JSON.parse((yield* lyra(["simulate", "--json", ...quick])).out)
      const low = yield* lyra(["simulate", "--json", ...quick, "--quality", "low"])
      assert.strictEqual(low.code, 0, low.err)
      const report = JSON.parse(low.out)
      assert.strictEqual(report.settings.quality, "low")
      assert.strictEqual(report.catalog.tracks, lossless.catalog.tracks)
      assert.isBelow(report.catalog.bytes, lossless.catalog.bytes / 3)
      assert.match((yield* lyra(["simulate", ...quick, "--quality", "low"])).out, /\nsettings .* --quality low/)
    }))

  it.effect("--svg writes the chart", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = join(tmpdir(), `lyra-simulate-${process.pid}.svg`)
      const result = yield* lyra(["simulate", ...quick, "--svg", file])
      assert.strictEqual(result.code, 0, result.err)
      const svg = yield* fs.readFileString(file)
      yield* fs.remove(file)
      assert.match(svg, /^<svg /)
      assert.include(svg, "albums</text>")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a bad --sim setting is a usage error", () =>
    Effect.gen(function*() {
      const result = yield* lyra(["simulate", "--sim", "latency=fast"])
      assert.strictEqual(result.code, 2)
      assert.match(result.err, /^lyra: --sim latency="fast": expected a latency/)
    }))
})
