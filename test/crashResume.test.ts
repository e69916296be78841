import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const root = join(import.meta.dirname, "..")
const bin = join(root, "bin", "lyra.js")

const trackCount = 6
const trackBytes = 200_000
/** Bytes per second per connection: slow enough that a kill lands mid-transfer. */
const bandwidth = 200_000
const chunk = 10_000

const source = (n: number) => {
  const bytes = new Uint8Array(trackBytes)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * (n + 3) + n * 7) % 251
  return bytes
}
const files = new Map<string, Uint8Array>(Array.from({ length: trackCount }, (_, i) => [`tr-${i + 1}`, source(i + 1)]))
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** What the server sent: bytes per track, and how many download requests each track had. */
const sent = new Map<string, number>()
const requests = new Map<string, number>()

const json = (payload: Record<string, unknown>) =>
  JSON.stringify({ "subsonic-response": { status: "ok", version: "1.16.1", ...payload } })

// An OpenSubsonic server for one album, serving .wav files (which lyra keeps untagged, byte for byte)
// with Range support, paced per connection, counting every byte it sends.
const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost")
  const method = url.pathname.replace(/^\/rest\//, "").replace(/\.view$/, "")
  const id = url.searchParams.get("id") ?? ""
  const answer = (body: string) => {
    response.writeHead(200, { "content-type": "application/json" })
    response.end(body)
  }
  if (method === "ping") return answer(json({}))
  if (method === "getOpenSubsonicExtensions") return answer(json({ openSubsonicExtensions: [] }))
  if (method === "getAlbum") {
    return answer(json({
      album: {
        id: "al-1",
        name: "Crash Album",
        artist: "Crash Artist",
        song: [...files.keys()].map((key, i) => ({
          id: key,
          title: `Song ${i + 1}`,
          album: "Crash Album",
          albumId: "al-1",
          artist: "Crash Artist",
          track: i + 1,
          size: trackBytes,
          suffix: "wav",
          contentType: "audio/wav"
        }))
      }
    }))
  }
  const bytes = files.get(id)
  if (method !== "download" || bytes === undefined) {
    response.writeHead(404, { "content-type": "text/plain" })
    return response.end("not found")
  }
  requests.set(id, (requests.get(id) ?? 0) + 1)
  const start = Number(/^bytes=(\d+)-$/.exec(request.headers["range"] ?? "")?.[1] ?? 0)
  response.writeHead(start > 0 ? 206 : 200, {
    "content-type": "audio/wav",
    "content-length": String(bytes.length - start),
    ...(start > 0 ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {})
  })
  let offset = start
  const pump = () => {
    if (response.destroyed) return
    if (offset >= bytes.length) return response.end()
    const piece = bytes.subarray(offset, Math.min(offset + chunk, bytes.length))
    offset += piece.length
    sent.set(id, (sent.get(id) ?? 0) + piece.length)
    response.write(piece)
    setTimeout(pump, (piece.length / bandwidth) * 1000)
  }
  pump()
})

let base = ""
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

/** What lyra printed on stderr in the last run. */
let lastStderr = ""

/** Runs lyra; kills it with SIGKILL after `killAfter` ms if it is still running. Answers its exit code, or "killed". */
const run = (args: ReadonlyArray<string>, killAfter: number | undefined) =>
  new Promise<number | "killed">((resolve) => {
    lastStderr = ""
    const child = spawn(bin, [...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: mkdtempSync(join(tmpdir(), "lyra-home-")),
        LYRA_SUBSONIC_URL: base,
        LYRA_SUBSONIC_USER: "crash",
        LYRA_SUBSONIC_PASSWORD: "not-a-secret"
      },
      stdio: ["ignore", "ignore", "pipe"]
    })
    child.stderr.on("data", (data) => {
      lastStderr += String(data)
      process.stderr.write(data)
    })
    let killed = false
    const timer = killAfter === undefined ? undefined : setTimeout(() => {
      killed = true
      child.kill("SIGKILL")
    }, killAfter)
    const limit = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      clearTimeout(limit)
      resolve(killed ? "killed" : code ?? -1)
    })
  })

/** Every regular file under `dir`, by relative path. */
const listFiles = (dir: string, prefix = ""): Array<string> =>
  readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(dir, join(prefix, entry.name))
      : [join(prefix, entry.name)]
  )

describe("crash and resume, for real", () => {
  it("survives 20 SIGKILLs at random moments: files byte-identical, no completed file fetched again", async () => {
    let kills = 0
    let rounds = 0
    let bytesSent = 0
    let random = 20_261_124
    const nextDelay = () => {
      random = (random * 1_103_515_245 + 12_345) % 2_147_483_648
      return 900 + (random % 1200)
    }
    while (kills < 20) {
      rounds++
      sent.clear()
      requests.clear()
      const out = mkdtempSync(join(tmpdir(), "lyra-crash-"))
      const common = ["--out", out, "--plain", "--set", "embed_cover=false"]
      // Tracks whose file lyra had completed (renamed into place) when it was killed, with their request counts then.
      const committed = new Map<string, number>()
      const idOf = new Map([...files].map(([id, bytes]) => [sha(bytes), id] as const))
      let code = await run(["download", "subsonic:album:al-1", ...common], nextDelay())
      while (code === "killed") {
        kills++
        for (const path of listFiles(out).filter((p) => p.endsWith(".wav"))) {
          const id = idOf.get(sha(readFileSync(join(out, path))))
          if (id !== undefined && !committed.has(id)) committed.set(id, requests.get(id) ?? 0)
        }
        const delay = kills < 20 ? nextDelay() : undefined
        code = await run(["resume", "--out", out, "--plain"], delay)
        // Killed before the job was recorded (while resolving its inputs): there is nothing to resume, so start it again.
        if (code !== "killed" && /no job has run in this library yet/.test(lastStderr)) {
          code = await run(["download", "subsonic:album:al-1", ...common], delay)
        }
      }
      assert.strictEqual(code, 0, `round ${rounds} ends well`)
      const found = listFiles(out).filter((path) => !path.startsWith(".lyra"))
      assert.deepStrictEqual(found.filter((path) => path.endsWith(".part")), [], "no .part left")
      const library = found.filter((path) => path.endsWith(".wav"))
      assert.strictEqual(library.length, trackCount)
      const expected = new Set([...files.values()].map(sha))
      for (const path of library) assert.isTrue(expected.has(sha(readFileSync(join(out, path)))), `${path} is whole`)
      for (const [id, before] of committed) {
        assert.strictEqual(requests.get(id) ?? 0, before, `${id} was complete on disk, and was not fetched again`)
      }
      bytesSent += [...sent.values()].reduce((a, b) => a + b, 0)
      rmSync(out, { recursive: true, force: true })
      assert.isTrue(existsSync(bin))
    }
    const ratio = bytesSent / (rounds * trackCount * trackBytes)
    console.log(`crash test: ${kills} kills over ${rounds} rounds; bytes sent / library = ${ratio.toFixed(3)}`)
    assert.isBelow(ratio, 1.5, "bytes sent again are bounded by what was in flight")
  }, 600_000)
})
