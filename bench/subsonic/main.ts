/**
 * `npm run bench`: lyra against a real (static) OpenSubsonic server, nginx,
 * with a request rate limit, beside aria2c and curl on the same files.
 *
 * 1. Installs what is missing (`apt-get install -y nginx aria2 curl sox flac`).
 * 2. Generates a library: artists × albums × tracks of real FLAC (sox, a few
 *    seconds of noise each, so every file differs), their OpenSubsonic JSON
 *    answers as static files, and a PNG cover per album. Kept between runs.
 * 3. Starts nginx on 127.0.0.1 with its own config, pid file and logs:
 *    `/rest/<method>[.view]?id=` serves those files; `limit_req` on `/rest/`
 *    (a rate with a burst, 429 with `Retry-After: 1`). Stops it by its pid at the end.
 * 4. Runs lyra (adaptive, `--rate`, sequential), `aria2c -i` and
 *    `curl --parallel --retry`, each into a fresh folder.
 * 5. Prints the table (wall time, ratio to the lower bound, 429s from the
 *    access log, files intact, peak RSS) and saves results JSON and an SVG chart
 *    of completed tracks over time under bench/subsonic/results/.
 *
 * Environment: BENCH_ARTISTS (4), BENCH_ALBUMS (5 per artist), BENCH_TRACKS
 * (10 per album), BENCH_SECONDS (3), BENCH_RATE (20 r/s), BENCH_BURST (10),
 * BENCH_LIMIT_RATE (nginx `limit_rate` on the media, bytes/s per connection;
 * off by default: nginx lets a whole second's worth through at once, so it
 * does not slow files smaller than that), BENCH_ONLY (comma-separated run
 * names), BENCH_DATA (where the library is kept).
 * A benchmark, not a test: it exits 0 unless it cannot run at all.
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { createServer } from "node:net"
import { availableParallelism, tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { deflateSync } from "node:zlib"

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

const shape = {
  artists: env("BENCH_ARTISTS", 4),
  albums: env("BENCH_ALBUMS", 5),
  tracks: env("BENCH_TRACKS", 10),
  seconds: env("BENCH_SECONDS", 3)
}
const rate = env("BENCH_RATE", 20)
const burst = env("BENCH_BURST", 10)
const limitRate = process.env.BENCH_LIMIT_RATE
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter((s) => s !== "")

// npm runs scripts at the package root (the bench itself is compiled into node_modules/.cache).
const repo = process.cwd()
const root = process.env.BENCH_DATA ??
  join(tmpdir(), `lyra-bench-subsonic-${shape.artists}x${shape.albums}x${shape.tracks}x${shape.seconds}`)
const www = join(root, "www")
const run = join(root, "run")
const resultsDir = join(repo, "bench", "subsonic", "results")
const user = "bench"
const password = "bench-secret"

const log = (line: string) => process.stderr.write(`${line}\n`)

// -- 1. tools ---------------------------------------------------------------------------------------

const which = (name: string) =>
  [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"].map((dir) => join(dir, name)).find((path) =>
    existsSync(path)
  )

const ensureTools = () => {
  const needed = { nginx: "nginx", aria2c: "aria2", curl: "curl", sox: "sox", flac: "flac" }
  const missing = Object.entries(needed).filter(([bin]) => which(bin) === undefined).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  log(`installing ${missing.join(" ")} (apt-get install -y nginx aria2 curl sox flac)`)
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"]
  const sh = (args: ReadonlyArray<string>) => {
    const result = spawnSync(sudo[0] ?? args[0]!, sudo.length > 0 ? args : args.slice(1), {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    })
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed`)
  }
  sh(["apt-get", "update", "-qq"])
  sh(["apt-get", "install", "-y", "nginx", "aria2", "curl", "sox", "flac"])
}

// -- 2. the library ---------------------------------------------------------------------------------

interface TrackFile {
  readonly id: string
  readonly albumId: string
  readonly sha256: string
  readonly audioMd5: string
  readonly size: number
}

interface Manifest {
  readonly shape: typeof shape
  readonly artists: ReadonlyArray<string>
  readonly albums: number
  readonly tracks: ReadonlyArray<TrackFile>
}

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

/** The MD5 of the decoded audio that FLAC keeps in STREAMINFO (bytes 18..34 of the block). */
const flacAudioMd5 = (path: string): string | undefined => {
  const fd = openSync(path, "r")
  try {
    const head = Buffer.alloc(42)
    if (readSync(fd, head, 0, 42, 0) < 42 || head.toString("latin1", 0, 4) !== "fLaC") return undefined
    return head.subarray(26, 42).toString("hex")
  } finally {
    closeSync(fd)
  }
}

/** A tiny solid PNG: the cover of an album. */
const png = (r: number, g: number, b: number) => {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, "latin1"), data])
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc(body))
    return Buffer.concat([length, body, sum])
  }
  const size = 64
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())])
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0))
  ])
}

const envelope = (payload: Record<string, unknown>) =>
  JSON.stringify({
    "subsonic-response": {
      status: "ok",
      version: "1.16.1",
      type: "lyra-bench",
      serverVersion: "1",
      openSubsonic: true,
      ...payload
    }
  })

const writeJson = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

/** Runs `sox` jobs on every core (two at least). */
const soxAll = async (jobs: ReadonlyArray<ReadonlyArray<string>>) => {
  const parallel = Math.max(2, availableParallelism())
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const args = jobs[next++]!
      await new Promise<void>((resolve, reject) => {
        const child = spawn("sox", [...args], { stdio: ["ignore", "ignore", "inherit"] })
        child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`sox ${args.join(" ")}: exit ${code}`)))
      })
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
}

const generate = async (): Promise<Manifest> => {
  const manifestPath = join(root, "manifest.json")
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest
    if (JSON.stringify(manifest.shape) === JSON.stringify(shape)) return manifest
  }
  log(`generating ${shape.artists}×${shape.albums}×${shape.tracks} FLAC tracks of ${shape.seconds} s in ${root}`)
  rmSync(root, { recursive: true, force: true })
  const media = join(www, "rest", "download")
  mkdirSync(media, { recursive: true })
  const plan: Array<{ artist: number; album: number; track: number; id: string; albumId: string }> = []
  for (let artist = 1; artist <= shape.artists; artist++) {
    for (let album = 1; album <= shape.albums; album++) {
      const albumId = `al-${artist}-${album}`
      for (let track = 1; track <= shape.tracks; track++) {
        plan.push({ artist, album, track, id: `tr-${artist}-${album}-${track}`, albumId })
      }
    }
  }
  // Pink noise under a tone: real audio that compresses like music, different in every file.
  await soxAll(plan.map((t, i) => [
    "-n",
    "-r",
    "44100",
    "-b",
    "16",
    "-c",
    "2",
    join(media, `${t.id}.flac`),
    "synth",
    String(shape.seconds),
    "pinknoise",
    "sine",
    String(110 + (i % 40) * 20),
    "vol",
    "0.5"
  ]))
  const tracks: Array<TrackFile> = plan.map((t) => {
    const path = join(media, `${t.id}.flac`)
    return {
      id: t.id,
      albumId: t.albumId,
      sha256: sha256File(path),
      audioMd5: flacAudioMd5(path) ?? "",
      size: statSync(path).size
    }
  })
  const byId = new Map(tracks.map((t) => [t.id, t]))
  const song = (t: (typeof plan)[number]) => ({
    id: t.id,
    parent: t.albumId,
    isDir: false,
    title: `Track ${t.track}`,
    album: `Album ${t.artist}.${t.album}`,
    albumId: t.albumId,
    artist: `Artist ${t.artist}`,
    artistId: `ar-${t.artist}`,
    artists: [{ id: `ar-${t.artist}`, name: `Artist ${t.artist}` }],
    displayArtist: `Artist ${t.artist}`,
    track: t.track,
    discNumber: 1,
    year: 2000 + t.artist,
    genre: "Noise",
    coverArt: t.albumId,
    size: byId.get(t.id)!.size,
    contentType: "audio/flac",
    suffix: "flac",
    duration: shape.seconds,
    bitRate: Math.round(byId.get(t.id)!.size * 8 / 1000 / shape.seconds),
    bitDepth: 16,
    samplingRate: 44100,
    channelCount: 2,
    type: "music",
    mediaType: "song",
    isVideo: false
  })
  const rest = join(www, "rest")
  writeJson(join(rest, "ping.json"), envelope({}))
  // A plain server: no songLyrics extension, so clients fetch no lyrics.
  writeJson(join(rest, "getOpenSubsonicExtensions.json"), envelope({ openSubsonicExtensions: [] }))
  writeJson(join(rest, "notfound.json"), JSON.stringify({
    "subsonic-response": { status: "failed", version: "1.16.1", error: { code: 70, message: "not found" } }
  }))
  const artists: Array<string> = []
  for (let artist = 1; artist <= shape.artists; artist++) {
    const artistId = `ar-${artist}`
    artists.push(artistId)
    const albums = Array.from({ length: shape.albums }, (_, i) => ({
      id: `al-${artist}-${i + 1}`,
      name: `Album ${artist}.${i + 1}`,
      artist: `Artist ${artist}`,
      artistId,
      coverArt: `al-${artist}-${i + 1}`,
      songCount: shape.tracks,
      year: 2000 + artist,
      created: "2024-01-01T00:00:00Z",
      duration: shape.tracks * shape.seconds
    }))
    writeJson(
      join(rest, "getArtist", `${artistId}.json`),
      envelope({ artist: { id: artistId, name: `Artist ${artist}`, albumCount: albums.length, album: albums } })
    )
    for (const album of albums) {
      const songs = plan.filter((t) => t.albumId === album.id).map(song)
      writeJson(join(rest, "getAlbum", `${album.id}.json`), envelope({ album: { ...album, song: songs } }))
      for (const s of songs) writeJson(join(rest, "getSong", `${s.id}.json`), envelope({ song: s }))
      mkdirSync(join(rest, "getCoverArt"), { recursive: true })
      writeFileSync(join(rest, "getCoverArt", `${album.id}.png`), png(40 * artist % 256, 90, 200))
    }
  }
  writeJson(
    join(rest, "getPlaylist", "pl-1.json"),
    envelope({
      playlist: { id: "pl-1", name: "Bench mix", owner: user, songCount: 20, entry: plan.slice(0, 20).map(song) }
    })
  )
  writeJson(
    join(rest, "search3.json"),
    envelope({ searchResult3: { artist: artists.map((id, i) => ({ id, name: `Artist ${i + 1}` })) } })
  )
  const manifest: Manifest = { shape, artists, albums: shape.artists * shape.albums, tracks }
  writeFileSync(manifestPath, JSON.stringify(manifest))
  return manifest
}

// -- 3. nginx ---------------------------------------------------------------------------------------

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject())
    })
  })

const nginxConfig = (port: number) => `
worker_processes 1;
pid ${run}/nginx.pid;
error_log ${run}/error.log warn;
${process.getuid?.() === 0 ? "user root;" : ""}
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  types { audio/flac flac; }
  log_format bench '$msec $status $uri $arg_id $body_bytes_sent';
  access_log ${run}/access.log bench;
  client_body_temp_path ${run}/body;
  proxy_temp_path ${run}/proxy;
  fastcgi_temp_path ${run}/fastcgi;
  uwsgi_temp_path ${run}/uwsgi;
  scgi_temp_path ${run}/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  limit_req_zone $binary_remote_addr zone=api:1m rate=${rate}r/s;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location /rest/ {
      limit_req zone=api burst=${burst} nodelay;
      limit_req_status 429;
      error_page 429 = @limited;
      error_page 404 = @notfound;
      location ~ ^/rest/download(\\.view)?$ {
        ${limitRate === undefined ? "" : `limit_rate ${limitRate};`}
        try_files /rest/download/$arg_id.flac =404;
      }
      location ~ ^/rest/getCoverArt(\\.view)?$ {
        try_files /rest/getCoverArt/$arg_id.png =404;
      }
      location ~ ^/rest/(?<method>[A-Za-z0-9]+)(\\.view)?$ {
        default_type application/json;
        try_files /rest/$method/$arg_id.json /rest/$method.json =404;
      }
    }
    location @limited {
      add_header Retry-After 1 always;
      default_type application/json;
      return 429 '{"error":"rate limited"}';
    }
    location @notfound {
      default_type application/json;
      try_files /rest/notfound.json =500;
    }
  }
}
`

const startNginx = async () => {
  rmSync(run, { recursive: true, force: true })
  mkdirSync(run, { recursive: true })
  const port = await freePort()
  const conf = join(run, "nginx.conf")
  writeFileSync(conf, nginxConfig(port))
  const nginx = which("nginx")!
  const started = spawnSync(nginx, ["-p", run, "-c", conf], { stdio: "inherit" })
  if (started.status !== 0) throw new Error("nginx did not start")
  const pid = Number(readFileSync(join(run, "nginx.pid"), "utf8").trim())
  return { port, pid, base: `http://127.0.0.1:${port}` }
}

const stopNginx = (pid: number) => {
  try {
    process.kill(pid, "SIGQUIT")
  } catch {
    // already gone
  }
}

// -- 4. the runs ------------------------------------------------------------------------------------

interface Run {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Requests the tool needs at least: what its lower bound is made of. */
  readonly requests: number
  readonly env?: Record<string, string>
}

interface LogLine {
  readonly at: number
  readonly status: number
  readonly uri: string
  readonly id: string
  readonly bytes: number
}

interface Result {
  readonly name: string
  readonly command: string
  readonly exitCode: number | null
  readonly wallSeconds: number
  readonly boundSeconds: number
  readonly ratio: number
  readonly requests: number
  readonly rateLimited: number
  readonly intact: number
  readonly retagged: number
  readonly missing: number
  readonly corrupt: number
  readonly peakRssMb: number | undefined
  /** Seconds from the start at which each track's download completed. */
  readonly completions: ReadonlyArray<number>
}

const readLog = (from: number): { lines: ReadonlyArray<LogLine>; size: number } => {
  const path = join(run, "access.log")
  if (!existsSync(path)) return { lines: [], size: 0 }
  const text = readFileSync(path).subarray(from).toString("utf8")
  const lines = text.split("\n").filter((line) => line !== "").map((line) => {
    const [at, status, uri, id, bytes] = line.split(" ")
    return { at: Number(at) * 1000, status: Number(status), uri: uri ?? "", id: id ?? "", bytes: Number(bytes) }
  })
  return { lines, size: statSync(path).size }
}

const peakRssOf = (pid: number): number | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const match = /VmHWM:\s+(\d+) kB/.exec(status)
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]
    )
    : []

/** Every source file found intact: byte for byte, or (when lyra tagged it) with the same decoded audio. */
const verify = (dir: string, manifest: Manifest) => {
  const bySha = new Map(manifest.tracks.map((t) => [t.sha256, t]))
  const byAudio = new Map(manifest.tracks.map((t) => [t.audioMd5, t]))
  const found = new Set<string>()
  let retagged = 0
  let corrupt = 0
  for (const path of filesUnder(dir).filter((p) => p.endsWith(".flac"))) {
    const exact = bySha.get(sha256File(path))
    if (exact !== undefined) {
      found.add(exact.id)
      continue
    }
    const md5 = flacAudioMd5(path)
    const same = md5 === undefined ? undefined : byAudio.get(md5)
    const decodes = same !== undefined && spawnSync("flac", ["-t", "-s", path]).status === 0
    if (same !== undefined && decodes) {
      found.add(same.id)
      retagged++
    } else {
      corrupt++
    }
  }
  return { intact: found.size, retagged, corrupt, missing: manifest.tracks.length - found.size }
}

const execute = async (spec: Run, manifest: Manifest, out: string): Promise<Result> => {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const logStart = readLog(0).size
  const started = Date.now()
  const child = spawn(spec.command, [...spec.args], {
    cwd: out,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...spec.env }
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000)
  })
  let peak: number | undefined
  const poll = setInterval(() => {
    const rss = child.pid === undefined ? undefined : peakRssOf(child.pid)
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss)
  }, 20)
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  clearInterval(poll)
  const wall = (Date.now() - started) / 1000
  if (exitCode !== 0) log(`  ${spec.name} exited ${exitCode}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)
  // nginx writes a request's line when it ends: give the last ones a moment.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const { lines } = readLog(logStart)
  const done = new Map<string, number>()
  for (const line of lines) {
    if (/^\/rest\/download/.test(line.uri) && (line.status === 200 || line.status === 206)) {
      done.set(line.id, (line.at - started) / 1000)
    }
  }
  const checked = verify(out, manifest)
  // The media's limit is per connection, so the server has no total bandwidth to divide the bytes by.
  const boundSeconds = (spec.requests - burst) / rate
  return {
    name: spec.name,
    command: `${spec.command} ${spec.args.join(" ")}`.replaceAll(root, "$DATA"),
    exitCode,
    wallSeconds: wall,
    boundSeconds,
    ratio: wall / boundSeconds,
    requests: lines.length,
    rateLimited: lines.filter((line) => line.status === 429).length,
    ...checked,
    peakRssMb: peak === undefined ? undefined : peak / 1024 / 1024,
    completions: [...done.values()].sort((a, b) => a - b)
  }
}

// -- 5. report --------------------------------------------------------------------------------------

const pad = (text: string, width: number, right = false) =>
  right ? text.padStart(width) : text.padEnd(width)

const table = (results: ReadonlyArray<Result>, total: number) => {
  const rows = [
    ["run", "wall s", "bound s", "ratio", "429s", "intact", "peak RSS"],
    ...results.map((r) => [
      r.name,
      r.wallSeconds.toFixed(2),
      r.boundSeconds.toFixed(2),
      `${r.ratio.toFixed(2)}x`,
      String(r.rateLimited),
      `${r.intact}/${total}${r.retagged > 0 ? ` (${r.retagged} retagged)` : ""}${
        r.corrupt > 0 ? `, ${r.corrupt} bad` : ""
      }`,
      r.peakRssMb === undefined ? "?" : `${r.peakRssMb.toFixed(0)} MB`
    ])
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  return rows.map((row, i) =>
    row.map((cell, c) => pad(cell, widths[c]!, c > 0 && i > 0 && c < 5)).join("  ")
  ).join("\n")
}

const colors = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]

const svgChart = (results: ReadonlyArray<Result>, total: number) => {
  const width = 900
  const height = 460
  const left = 60
  const right = 200
  const top = 30
  const bottom = 50
  const maxT = Math.max(1, ...results.map((r) => r.wallSeconds))
  const x = (t: number) => left + (t / maxT) * (width - left - right)
  const y = (n: number) => height - bottom - (n / total) * (height - top - bottom)
  const ticks = Array.from({ length: 6 }, (_, i) => (maxT * i) / 5)
  const lines = results.map((r, i) => {
    const points = [[0, 0], ...r.completions.map((t, k) => [t, k + 1]), [r.wallSeconds, r.completions.length]]
    const path = points.map(([t, n], k) => `${k === 0 ? "M" : "L"}${x(t!).toFixed(1)},${y(n!).toFixed(1)}`).join(" ")
    return `<path d="${path}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"/>
<text x="${width - right + 10}" y="${top + 20 + i * 20}" fill="${colors[i % colors.length]}" font-size="13">${r.name} (${
      r.wallSeconds.toFixed(1)
    } s)</text>`
  }).join("\n")
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="20" font-size="14">Completed tracks over time: ${total} FLAC files, nginx limit_req ${rate} r/s burst ${burst}</text>
<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>
${
    ticks.map((t) =>
      `<text x="${x(t)}" y="${height - bottom + 18}" font-size="11" text-anchor="middle">${t.toFixed(0)} s</text>`
    ).join("\n")
  }
<text x="${left - 8}" y="${y(total) + 4}" font-size="11" text-anchor="end">${total}</text>
<text x="${left - 8}" y="${y(0) + 4}" font-size="11" text-anchor="end">0</text>
${lines}
</svg>
`
}

// -- main -------------------------------------------------------------------------------------------

const main = async () => {
  ensureTools()
  const manifest = await generate()
  const total = manifest.tracks.length
  const server = await startNginx()
  const stop = () => stopNginx(server.pid)
  process.on("SIGINT", () => {
    stop()
    process.exit(130)
  })
  try {
    // Run as a user runs it: the executable itself, so that its shebang's node and malloc settings apply.
    const lyra = join(repo, "bin", "lyra.js")
    const inputs = manifest.artists.map((id) => `subsonic:artist:${id}`)
    const lyraEnv = {
      LYRA_SUBSONIC_URL: server.base,
      LYRA_SUBSONIC_USER: user,
      LYRA_SUBSONIC_PASSWORD: password,
      // No settings file of the user's: defaults only.
      XDG_CONFIG_HOME: join(run, "config"),
      LYRA_CONFIG: ""
    }
    // ping, the extensions, artists, albums (songs inline), a cover per album, the files.
    const lyraRequests = 2 + manifest.artists.length + manifest.albums * 2 + total
    const urls = manifest.tracks.map((t) => ({
      url: `${server.base}/rest/download?id=${t.id}&u=${user}&t=${createHash("md5").update(password + "s1").digest("hex")}&s=s1&v=1.16.1&c=bench`,
      out: `${t.id}.flac`
    }))
    writeFileSync(join(run, "aria2.txt"), urls.map((u) => `${u.url}\n  out=${u.out}\n`).join(""))
    writeFileSync(join(run, "curl.txt"), urls.map((u) => `url = "${u.url}"\noutput = "${u.out}"\n`).join(""))
    const runs: ReadonlyArray<Run> = [
      { name: "lyra adaptive", command: lyra, args: ["download", ...inputs, "--out", "lib", "--quiet"], requests: lyraRequests, env: lyraEnv },
      {
        name: `lyra --rate ${rate}`,
        command: lyra,
        args: ["download", ...inputs, "--out", "lib", "--quiet", "--rate", String(rate)],
        requests: lyraRequests,
        env: lyraEnv
      },
      {
        name: "lyra sequential",
        command: lyra,
        args: ["download", ...inputs, "--out", "lib", "--quiet", "--albums", "1", "--tracks", "1", "--api", "1"],
        requests: lyraRequests,
        env: lyraEnv
      },
      {
        // aria2c retries a 503 but gives a 429 up: run it again a second later (it skips finished files) until it succeeds.
        name: "aria2c -i",
        command: "sh",
        args: [
          "-c",
          `for round in $(seq 1 30); do aria2c -i '${join(run, "aria2.txt")}' -d . -j 5 --max-tries=30 --retry-wait=1 `
          + `--continue=true --auto-file-renaming=false -q && exit 0; sleep 1; done; exit 1`
        ],
        requests: total
      },
      {
        // --fail, or the 429 pages it gives up on are kept as files.
        name: "curl --parallel --retry",
        command: "curl",
        args: ["--parallel", "--retry", "30", "--fail", "-sS", "-K", join(run, "curl.txt")],
        requests: total
      }
    ].filter((spec) => only === undefined || only.some((name) => spec.name.startsWith(name)))
    const results: Array<Result> = []
    for (const spec of runs) {
      log(`running ${spec.name}`)
      // Let the server's bucket refill between runs.
      await new Promise((resolve) => setTimeout(resolve, Math.ceil((burst / rate) * 1000) + 500))
      results.push(await execute(spec, manifest, join(root, "out", spec.name.replace(/[^a-z0-9]+/gi, "-"))))
    }
    const bytes = manifest.tracks.reduce((sum, t) => sum + t.size, 0)
    console.log(`\n${total} FLAC tracks (${(bytes / 1e6).toFixed(1)} MB) in ${manifest.albums} albums by ${manifest.artists.length} artists; nginx limit_req ${rate} r/s, burst ${burst}, 429 + Retry-After: 1${limitRate === undefined ? "" : `; limit_rate ${limitRate}/connection`}`)
    console.log(`lower bound = (requests the tool needs - burst) / rate: lyra ${lyraRequests} requests, aria2c and curl ${total}\n`)
    console.log(table(results, total))
    const adaptive = results.find((r) => r.name === "lyra adaptive")
    const sequential = results.find((r) => r.name === "lyra sequential")
    if (adaptive !== undefined && sequential !== undefined) {
      console.log(`\nlyra adaptive is ${(sequential.wallSeconds / adaptive.wallSeconds).toFixed(1)}x faster than sequential`)
    }
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(
      join(resultsDir, "latest.json"),
      JSON.stringify({ shape, rate, burst, limitRate, bytes, node: process.version, results }, null, 2)
    )
    writeFileSync(join(resultsDir, "latest.svg"), svgChart(results, total))
    console.log(`\nsaved ${relative(repo, join(resultsDir, "latest.json"))} and ${relative(repo, join(resultsDir, "latest.svg"))}`)
  } finally {
    stop()
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
