import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fromLine } from "../src/layers/NdjsonRenderer.js"
import { assertBuilt, launcher as bin } from "./support/lyraProcess.js"

// Real processes with stdout piped (not a terminal): `node bin/lyra.js`, which loads the bundle `npm run build` makes.
beforeAll(assertBuilt)

const lyra = (...args: ReadonlyArray<string>) => {
  const out = mkdtempSync(join(tmpdir(), "lyra-out-"))
  const result = spawnSync(process.execPath, [bin, ...args, "--out", out], {
    encoding: "utf8",
    timeout: 60_000,
    // A quiet sim, so the runs are short and free of random faults.
    env: { ...process.env, LYRA_SIM_ERROR_RATE: "0", FORCE_COLOR: "1" }
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const escape = "\u001B"

describe("lyra download, output not a terminal", () => {
  it("prints plain lines and the summary, with no escape codes", () => {
    for (const flags of [[], ["--plain"]]) {
      const { code, stderr, stdout } = lyra("download", "sim:album:11", ...flags)
      assert.strictEqual(code, 0, stderr)
      assert.notInclude(stdout + stderr, escape)
      const lines = stdout.trimEnd().split("\n")
      assert.match(lines[0]!, /^\[00:00\.\d\] job started: sim:album:11 \(albums 3, tracks 5, 5 per album, api 10\)$/)
      assert.strictEqual(lines.filter((line) => /^\[\d\d:\d\d\.\d\] track done: /.test(line)).length, 10)
      const summary = lines.slice(lines.indexOf("Summary"))
      assert.strictEqual(summary[1], "  tracks: 10 done, 0 skipped, 0 failed")
      assert.match(summary.join("\n"), /written: [\d.]+ MB in [\d.]+m?s \(average [\d.]+ [kM]B\/s, peak [\d.]+ [kM]B\/s\)/)
      assert.match(summary.join("\n"), /peak memory: [\d.]+ MB RSS/)
    }
  })

  it("--json prints NDJSON events that validate against the schema, and the summary on stderr", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = lyra("download", "sim:album:11", "--json")
      assert.strictEqual(code, 0, stderr)
      assert.notInclude(stdout, escape)
      const events = yield* Effect.forEach(stdout.trimEnd().split("\n"), (line) => fromLine(line))
      assert.strictEqual(events[0]!._tag, "JobStarted")
      assert.strictEqual(events[events.length - 1]!._tag, "JobFinished")
      assert.strictEqual(events.filter((e) => e._tag === "ItemFinished" && e.kind === "track" && e.state === "done").length, 10)
      for (let i = 1; i < events.length; i++) assert.isAtLeast(events[i]!.at, events[i - 1]!.at)
      assert.match(stderr, /^Summary\n {2}tracks: 10 done, 0 skipped, 0 failed\n/)
    }).pipe(Effect.runPromise))

  it("--quiet prints only errors and the summary", () => {
    const ok = lyra("download", "sim:album:11", "--quiet")
    assert.strictEqual(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^Summary\n {2}tracks: 10 done, 0 skipped, 0 failed\n/)
    const failing = lyra("download", "sim:album:11", "--sim", "fail=1103", "-q")
    assert.strictEqual(failing.code, 1, failing.stderr)
    const lines = failing.stdout.trimEnd().split("\n")
    assert.match(lines[0]!, /^\[\d\d:\d\d\.\d\] track failed: .* \/ 03\. .*: sim: .*not found$/)
    assert.match(lines[1]!, /^\[\d\d:\d\d\.\d\] album failed: .*: 1 of 10 tracks failed$/)
    assert.strictEqual(lines[2], "")
    assert.strictEqual(lines[3], "Summary")
    assert.match(failing.stdout, /\n {4}retry: lyra download sim:track:1103 --out \S+\n/)
  })

  it("--log-file writes JSON lines of requests and events; a bad path is a usage error", () => {
    const log = join(mkdtempSync(join(tmpdir(), "lyra-log-")), "run.log")
    const { code, stderr } = lyra("download", "sim:album:11", "--log-file", log, "-q")
    assert.strictEqual(code, 0, stderr)
    const records = readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
    assert.isTrue(records.some((r) => r["message"] === "request" && r["operation"] === "album" && r["outcome"] === "ok"))
    assert.isTrue(records.some((r) => r["message"] === "request" && r["operation"] === "transfer" && typeof r["bytes"] === "number"))
    assert.strictEqual(records.filter((r) => r["event"] === "JobFinished").length, 1)

    const bad = lyra("download", "sim:album:11", "--log-file", "/nonexistent-dir/x.log")
    assert.strictEqual(bad.code, 2)
    assert.match(bad.stderr, /^lyra: --log-file \/nonexistent-dir\/x\.log: cannot open it \(.*\)\n$/)
  })
})
