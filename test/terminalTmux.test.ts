import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { assertBuilt, launcher as bin } from "./support/lyraProcess.js"

// The real terminal: `lyra download` inside tmux, its screen read with capture-pane while it runs.

const hasTmux = spawnSync("tmux", ["-V"], { encoding: "utf8" }).status === 0
// CI installs tmux (.ci/run); a developer machine without it skips rather than fails.
const skip = !hasTmux && process.env["CI"] === undefined

beforeAll(assertBuilt)

/** A tmux server of our own (its own socket), so the test neither sees nor disturbs anyone else's. */
const tmux = (socket: string, ...args: ReadonlyArray<string>) =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" })

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

describe("the live display in a real terminal", () => {
  it.skipIf(skip)("shows bars, active tracks and level usage while it runs, and the summary at the end", async () => {
    const socket = `lyra-test-${process.pid}`
    const out = mkdtempSync(join(tmpdir(), "lyra-tmux-"))
    // Four albums of ten tracks at 1 MB/s per transfer: several seconds of live display.
    const command = `${process.execPath} ${bin} download sim:artist:1 --out ${out} --sim bandwidth=1MB/s`
      + `; echo "EXIT=$?"; sleep 120`
    tmux(socket, "-f", "/dev/null", "new-session", "-d", "-s", "lyra", "-x", "120", "-y", "50", command)
    try {
      const screens: Array<string> = []
      let resized = false
      const deadline = Date.now() + 60_000
      let last = ""
      while (Date.now() < deadline) {
        await sleep(150)
        last = tmux(socket, "capture-pane", "-p", "-t", "lyra")
        screens.push(last)
        if (last.includes("EXIT=")) break
        // Halfway through, make the window narrower: the next frames must fit it.
        if (!resized && /\b(1\d|2\d)\/\d+ tracks/.test(last)) {
          tmux(socket, "resize-window", "-t", "lyra", "-x", "72", "-y", "30")
          resized = true
        }
      }
      assert.include(last, "EXIT=0", `the run did not end in time; last screen:\n${last}`)

      const live = screens.filter((screen) => /levels albums \d\/3/.test(screen))
      assert.isAbove(live.length, 5, "the live display was never on screen")
      const seen = live.join("\n")
      // The overall bar: a bar, tracks done/total, bytes, speed, ETA.
      assert.match(seen, /^█*░* \d+\/\d+ tracks {2}[\d.]+ [kM]?B of [\d.]+ MB {2}[\d.]+ [kM]?B\/s {2}ETA \S+/m)
      // Level usage: albums a/A, tracks t/T, API k/K for the provider.
      assert.match(seen, /^levels albums [0-3]\/3 {2}tracks [0-5]\/5 {2}api sim \d+\/10/m)
      assert.match(seen, /^status retries \d+ {2}429s \d+ {2}failed \d+ {2}bw [\d.]+ [kM]?B\/s {2}rss [\d.]+ MB/m)
      // Albums in progress, and active tracks with their own bar, percentage and speed.
      assert.match(seen, /^▸ Yusuf Garcia — .+ █*░+ \d+\/10/m)
      assert.match(seen, /^ {2}↓ \d\d\. .+ █*░+ +\d+% +[\d.]+ [kM]?B +([\d.]+ [kM]?B\/s|–)$/m)
      // After the resize, frames are laid out for 72 columns: the overall line still fits on one row.
      const narrow = live.filter((screen) => screen.split("\n").every((line) => line.length <= 72)).slice(-3)
      assert.isTrue(resized)
      assert.isAbove(narrow.length, 0)
      assert.match(narrow.join("\n"), /^█+░* \d+\/\d+ tracks {2}/m)

      // The last screen: albums kept above, then the summary right below them; the live area is gone.
      // (Only below the kept lines: a terminal that reflows on resize may leave an old frame in its history.)
      assert.include(last, "✓ album done: Yusuf Garcia —")
      const tail = last.slice(last.lastIndexOf("✓ "))
      assert.match(tail, /^✓ artist done: Yusuf Garcia \(4 done\)\n\n?Summary\n/)
      assert.match(last, /^Summary$/m)
      assert.match(last, /^ {2}tracks: 40 done, 0 skipped, 0 failed$/m)
      assert.match(last, /^ {2}written: [\d.]+ MB in [\d.]+s \(average [\d.]+ [kM]B\/s, peak [\d.]+ [kM]B\/s\)$/m)
      assert.match(last, /^ {2}peak memory: [\d.]+ MB RSS$/m)
      assert.notMatch(tail, /^levels albums/m)
      assert.notMatch(tail, /^ {2}↓ /m)
    } finally {
      spawnSync("tmux", ["-L", socket, "kill-server"])
    }
  }, 90_000)
})
