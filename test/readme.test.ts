import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { archiveAlbum } from "../examples/embed.js"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("README", () => {
  it("opens with the two commands: install and run the main job, then the tests", () => {
    const first = /```sh\n([^`]*)```/.exec(readme)?.[1]?.trim().split("\n")
    assert.deepStrictEqual(first, ["npm install && npx lyra download sim:artist:1 --out ./library", "npm test"])
  })

  it("shows examples/embed.ts verbatim", () => {
    const example = readFileSync(new URL("../examples/embed.ts", import.meta.url), "utf8").trim()
    assert.include(readme, example)
  })

  it.live("its embedding example archives an album with the app's own layers", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "lyra-embed-"))
      try {
        const report = yield* archiveAlbum(dir)
        assert.strictEqual(report.done, 10)
        assert.strictEqual(report.failed, 0)
        const files = readdirSync(dir, { recursive: true }) as Array<string>
        assert.strictEqual(files.filter((f) => f.endsWith(".flac")).length, 10)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))
})
