import { assert, describe, it } from "@effect/vitest"
import type { Console } from "effect"
import { Effect, Either, JSONSchema, Layer, Schema } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import { ProgressEvent } from "../src/domain/ProgressEvent.js"
import * as NdjsonRenderer from "../src/layers/NdjsonRenderer.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { download } from "../src/programs/download.js"
import { runVirtual, testEngine } from "./support/testEngine.js"

/** A Console that keeps what `log` and `error` print. */
const captureConsole = Effect.map(Effect.console, (base) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const console: Console.Console = {
    ...base,
    log: (...args) => Effect.sync(() => void out.push(args.join(" "))),
    error: (...args) => Effect.sync(() => void err.push(args.join(" ")))
  }
  return { console, out, err } as const
})

const golden = fileURLToPath(new URL("./ndjsonAlbum11.ndjson", import.meta.url))

/** sim:album:11 with two tracks at a time, on the exact profile: 40 ms round trips, 4 MB/s per transfer. */
const job = download(["sim:album:11"], { ...defaultJobSettings, tracks: 2, tracksPerAlbum: 2 })

/** Runs the job under TestClock with the NDJSON renderer subscribed; answers what it printed and what was published. */
const runJob = Effect.gen(function*() {
  const { console, err, out } = yield* captureConsole
  const engine = testEngine({ profile: SimProfile.exact() })
  const renderer = NdjsonRenderer.layerWith({ summary: {}, rss: () => 42_000_000 })
  const events = yield* Effect.gen(function*() {
    yield* runVirtual(job)
    return yield* (yield* ProgressRecorder).events
  }).pipe(Effect.provide(renderer.pipe(Layer.provideMerge(engine))), Effect.withConsole(console))
  // The layer is closed now: the renderer has printed everything.
  return { events, out, err } as const
})

describe("NDJSON output", () => {
  it.effect("prints one line per event, each valid against the ProgressEvent schema, in publication order", () =>
    Effect.gen(function*() {
      const { err, events, out } = yield* runJob
      assert.strictEqual(out.length, events.length)
      const decoded = yield* Effect.forEach(out, (line) => NdjsonRenderer.fromLine(line))
      assert.deepStrictEqual(decoded, events)
      for (const line of out) {
        const record = JSON.parse(line) as Record<string, unknown>
        // Each event has a type, a timestamp and the ids it is about.
        assert.isString(record["_tag"])
        assert.isNumber(record["at"])
        if (record["_tag"] !== "JobStarted" && record["_tag"] !== "JobFinished") {
          assert.isTrue(typeof record["item"] === "string" || typeof record["provider"] === "string")
        }
        assert.notInclude(line, "\n")
      }
      // stdout stays pure NDJSON: the summary is for people, on stderr.
      assert.strictEqual(err.length, 1)
      assert.match(err[0]!, /^Summary\n {2}tracks: 10 done, 0 skipped, 0 failed\n/)
      assert.include(err[0]!, "peak memory: 42.0 MB RSS")
    }))

  // sim:album:11, two tracks at a time, on the exact profile: every event and its virtual time, as
  // recorded in test/ndjsonAlbum11.ndjson. A change to what the programs publish, or when, shows there
  // as a diff: review it, then regenerate with LYRA_UPDATE_GOLDEN=1 npx vitest run test/ndjsonRenderer.test.ts
  it.effect("the event stream of a known job is exact under TestClock", () =>
    Effect.gen(function*() {
      const { out } = yield* runJob
      if (process.env["LYRA_UPDATE_GOLDEN"] === "1") writeFileSync(golden, `${out.join("\n")}\n`)
      const expected = readFileSync(golden, "utf8").trimEnd().split("\n")
      assert.deepStrictEqual(
        yield* Effect.forEach(out, (line) => NdjsonRenderer.fromLine(line)),
        yield* Effect.forEach(expected, (line) => NdjsonRenderer.fromLine(line))
      )
      // Byte for byte too: the wire form is stable.
      assert.deepStrictEqual(out, expected)
    }))

  it("rejects lines that do not match the schema", () => {
    const decode = Schema.decodeUnknownEither(Schema.parseJson(ProgressEvent))
    assert.isTrue(Either.isRight(decode(`{"_tag":"ItemStarted","item":"a","kind":"album","at":1}`)))
    assert.isTrue(Either.isLeft(decode(`{"_tag":"ItemStarted","item":"a","kind":"song","at":1}`)))
    assert.isTrue(Either.isLeft(decode(`{"_tag":"Nope","at":1}`)))
    assert.isTrue(Either.isLeft(decode(`{"_tag":"JobFinished","at":1}`)))
    assert.isTrue(Either.isLeft(decode(`not json`)))
  })

  it("docs/events.schema.json is the JSON Schema of ProgressEvent", () => {
    const file = fileURLToPath(new URL("../docs/events.schema.json", import.meta.url))
    const current = `${JSON.stringify(JSONSchema.make(ProgressEvent), null, 2)}\n`
    // After changing ProgressEvent, regenerate with LYRA_UPDATE_GOLDEN=1 npx vitest run test/ndjsonRenderer.test.ts
    if (process.env["LYRA_UPDATE_GOLDEN"] === "1") writeFileSync(file, current)
    assert.strictEqual(readFileSync(file, "utf8"), current, "docs/events.schema.json is out of date")
  })

  it("writes the wire form of the schema", () => {
    const event: ProgressEvent = { _tag: "Retrying", at: 5, provider: "sim", operation: "album", attempt: 1, delayMillis: 250, reason: "HTTP 503" }
    assert.strictEqual(
      NdjsonRenderer.toLine(event),
      `{"_tag":"Retrying","at":5,"provider":"sim","operation":"album","attempt":1,"delayMillis":250,"reason":"HTTP 503"}`
    )
  })
})
