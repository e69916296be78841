/**
 * A generated OpenSubsonic catalog for fault runs: `albums` albums of
 * `tracks` tracks each, every file's bytes computed from its id (nothing is
 * held in memory, so a soak can serve thousands), Range requests honoured.
 * Its credentials are the test server's (test/subsonicServer.ts).
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as http from "node:http"
import { validToken } from "../subsonicServer.js"

export interface CatalogOptions {
  readonly albums: number
  readonly tracks: number
  /** File sizes are drawn between these, from the track's id. */
  readonly minBytes: number
  readonly maxBytes: number
}

export const albumId = (album: number) => `al-${album}`
export const trackId = (album: number, track: number) => `tr-${album}-${track}`

const hash32 = (text: string) => createHash("sha256").update(text).digest().readUInt32LE(0)

/** The size of a track's file. */
export const sizeOf = (options: CatalogOptions, id: string) =>
  options.minBytes + (hash32(`size:${id}`) % Math.max(1, options.maxBytes - options.minBytes + 1))

/** A track's whole file: bytes that differ from every other track's at almost every offset. */
export const contentOf = (options: CatalogOptions, id: string): Uint8Array => {
  const size = sizeOf(options, id)
  const a = (hash32(`a:${id}`) | 1) >>> 0
  const b = hash32(`b:${id}`)
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (Math.imul(i, a) + b + (i >>> 9)) >>> 11 & 255
  return out
}

/** The sha256 of a track's file, hex. */
export const sha256Of = (options: CatalogOptions, id: string) =>
  createHash("sha256").update(contentOf(options, id)).digest("hex")

const song = (options: CatalogOptions, album: number, track: number) => ({
  id: trackId(album, track),
  title: `Song ${track}`,
  album: `Album ${album}`,
  albumId: albumId(album),
  artist: "Artist",
  artistId: "ar-1",
  track,
  size: sizeOf(options, trackId(album, track)),
  suffix: "flac",
  contentType: "audio/flac"
})

const json = (res: http.ServerResponse, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}
const okJson = (payload: Record<string, unknown> = {}) => ({
  "subsonic-response": { status: "ok", version: "1.16.1", ...payload }
})
const failedJson = (code: number, message: string) => ({
  "subsonic-response": { status: "failed", version: "1.16.1", error: { code, message } }
})

/** What the catalog saw on `/media`, its credential-free file path (a CDN's, say). */
export interface CatalogStats {
  mediaRequests: number
  /** `/media` requests that carried a Subsonic credential: must stay 0. */
  credentialLeaks: number
}

const credentialParams = ["u", "t", "s", "p", "apiKey"]

/** Sends `bytes` from the `Range: bytes=N-` asked for, if any. */
const sendFile = (req: http.IncomingMessage, res: http.ServerResponse, bytes: Uint8Array) => {
  const range = /^bytes=(\d+)-$/.exec(req.headers["range"] ?? "")
  const start = range === null ? 0 : Math.min(Number(range[1]), bytes.length)
  if (start === 0) {
    res.writeHead(200, { "content-type": "audio/flac", "content-length": bytes.length })
    return res.end(bytes)
  }
  res.writeHead(206, {
    "content-type": "audio/flac",
    "content-length": bytes.length - start,
    "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`
  })
  return res.end(bytes.subarray(start))
}

/**
 * Answers one request: ping, extensions, getAlbum and download, with a valid
 * token (else code 40); and `/media?id=`, the files again with no credentials
 * asked (as another host a server redirects to would serve them).
 */
const answer = (options: CatalogOptions, stats: CatalogStats, req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://catalog")
  const id = url.searchParams.get("id") ?? ""
  if (url.pathname === "/media") {
    stats.mediaRequests++
    if (credentialParams.some((name) => url.searchParams.has(name))) stats.credentialLeaks++
    return /^tr-\d+-\d+$/.test(id) ? sendFile(req, res, contentOf(options, id)) : res.writeHead(404).end()
  }
  const method = url.pathname.replace(/^\/rest\//, "").replace(/\.view$/, "")
  if (!validToken(url.searchParams)) return json(res, failedJson(40, "Wrong username or password"))
  switch (method) {
    case "ping":
      return json(res, okJson())
    case "getOpenSubsonicExtensions":
      return json(res, okJson({ openSubsonicExtensions: [] }))
    case "getAlbum": {
      const album = Number(/^al-(\d+)$/.exec(id)?.[1] ?? Number.NaN)
      if (!(album >= 1 && album <= options.albums)) return json(res, failedJson(70, "Album not found"))
      return json(res, okJson({
        album: {
          id,
          name: `Album ${album}`,
          artist: "Artist",
          artistId: "ar-1",
          songCount: options.tracks,
          song: Array.from({ length: options.tracks }, (_, i) => song(options, album, i + 1))
        }
      }))
    }
    case "download": {
      const match = /^tr-(\d+)-(\d+)$/.exec(id)
      if (match === null || Number(match[1]) > options.albums || Number(match[2]) > options.tracks) {
        return json(res, failedJson(70, "Song not found"))
      }
      return sendFile(req, res, contentOf(options, id))
    }
    default:
      return json(res, failedJson(0, `unexpected method ${method}`))
  }
}

/**
 * The catalog on a real node:http server on 127.0.0.1 for the scope. It keeps
 * no record of requests (the proxy does), so a soak does not grow it.
 */
export const startCatalog = (options: CatalogOptions) => {
  const stats: CatalogStats = { mediaRequests: 0, credentialLeaks: 0 }
  return Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((req, res) => answer(options, stats, req, res))
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => {
    const address = server.address()
    return { base: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`, stats }
  }))
}
