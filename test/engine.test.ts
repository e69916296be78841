import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { defaultJobSettings } from "../src/domain/JobSettings.js"
import { ProgressRecorder } from "../src/layers/ProgressRecorder.js"
import * as SimProfile from "../src/layers/sim/SimProfile.js"
import { SimServer } from "../src/layers/sim/SimServer.js"
import { StorageMemory } from "../src/layers/StorageMemory.js"
import { download } from "../src/programs/download.js"
import { makespan, runVirtual, testEngine } from "./support/testEngine.js"

describe("download", () => {
  it.effect("downloads an album with batched track lookups", () =>
    Effect.gen(function*() {
      const report = yield* runVirtual(download(["sim:album:11"], defaultJobSettings))
      const server = yield* SimServer
      const requests = yield* server.requests
      const events = yield* (yield* ProgressRecorder).events
      const files = yield* (yield* StorageMemory).files
      console.log(requests.map((r) => `${r.at} ${r.endpoint} ${r.id} ${r.status}`).slice(0, 8).join("\n"))
      console.log(makespan(events), [...files.keys()].slice(0, 3))
      assert.strictEqual(report.done, 10)
      assert.strictEqual(requests.filter((r) => r.endpoint === "tracks").length, 1)
    }).pipe(Effect.provide(testEngine({ profile: SimProfile.exact() }))))
})
