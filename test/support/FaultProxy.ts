/**
 * A fault-injecting HTTP proxy for tests, benchmarks and the soak: it sits
 * between lyra and a real local server and, by rule or at random from a seed,
 * breaks the answers in the ways real networks and servers do. Plain node:http
 * (test tooling); it listens on 127.0.0.1 only and closes with its Scope,
 * cutting every connection it still holds (a stalled one included).
 */
import { Effect } from "effect"
import * as http from "node:http"
import type { Socket } from "node:net"

/** One way to break an answer. Byte counts are of the body. */
export type Fault =
  /** The connection is reset (TCP RST) after `afterBytes` of the body (default: half). */
  | { readonly _tag: "Reset"; readonly afterBytes?: number }
  /** Status and headers (and `afterBytes` of the body, default none), then silence until lyra gives up. */
  | { readonly _tag: "Stall"; readonly afterBytes?: number }
  /** The body in pieces of `bytes`, one every `everyMillis`. */
  | { readonly _tag: "Trickle"; readonly bytes: number; readonly everyMillis: number }
  /** An answer from the proxy alone: a 5xx, or a 429 with or without Retry-After. */
  | { readonly _tag: "Status"; readonly status: number; readonly retryAfter?: string }
  /** The connection is closed cleanly (FIN) after `afterBytes` (default: half), short of its Content-Length. */
  | { readonly _tag: "ShortBody"; readonly afterBytes?: number }
  /** The whole body, under a Content-Length `delta` bytes off; then the connection is closed. */
  | { readonly _tag: "WrongLength"; readonly delta: number }
  /** An HTML error page, with status 200 and a text/html type, in place of the answer. */
  | { readonly _tag: "HtmlPage" }
  /** A 302 to `location` (relative to the proxy, or absolute; given the request's path and query). */
  | { readonly _tag: "Redirect"; readonly location: (pathAndQuery: string) => string }
  /** A 302 to a page that redirects back, for ever. */
  | { readonly _tag: "RedirectLoop" }
  /** `200 application/json` that is not JSON. */
  | { readonly _tag: "MalformedJson" }
  /** The real answer cut in half, with a Content-Length that matches the cut (so only the JSON shows it). */
  | { readonly _tag: "TruncatedJson" }
  /** `200 application/json` of `bytes`, streamed; with a Content-Length or chunked. */
  | { readonly _tag: "OversizedJson"; readonly bytes: number; readonly declareLength: boolean }
  /** The real answer with one more header (a hostile Content-Disposition, say). */
  | { readonly _tag: "ExtraHeader"; readonly name: string; readonly value: string }

export type FaultKind = Fault["_tag"]

/** A request as the proxy sees it. `method` is the Subsonic method (`download`, `getAlbum`...). */
export interface ProxyRequest {
  /** 1 for the first request the proxy received. */
  readonly n: number
  readonly httpMethod: string
  readonly path: string
  readonly method: string
  readonly params: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
}

/** Which fault, if any, a request gets. */
export type FaultPlan = (request: ProxyRequest) => Fault | undefined

export interface Rule {
  /** The Subsonic method (`download`) or a pattern over the path. */
  readonly method?: string | RegExp
  /** Only requests for this `id` parameter. */
  readonly id?: string
  /** Only the nth matching requests (1-based). */
  readonly nth?: number | ReadonlyArray<number>
  /** Only the first `times` matching requests. */
  readonly times?: number
  readonly fault: Fault
}

/**
 * A plan from rules: the first rule that applies to a request gives its
 * fault. Every rule counts the requests it matches, whether or not an
 * earlier rule took them, so `nth: 2` is the second such request.
 */
export const rules = (list: ReadonlyArray<Rule>): FaultPlan => {
  const matched = list.map(() => 0)
  return (request) => {
    let fault: Fault | undefined
    for (const [index, rule] of list.entries()) {
      const method = rule.method
      if (typeof method === "string" && method !== request.method) continue
      if (method instanceof RegExp && !method.test(request.path)) continue
      if (rule.id !== undefined && rule.id !== request.params.get("id")) continue
      const count = ++matched[index]!
      if (fault !== undefined) continue
      if (rule.times !== undefined && count > rule.times) continue
      if (rule.nth !== undefined && !(typeof rule.nth === "number" ? [rule.nth] : rule.nth).includes(count)) continue
      fault = rule.fault
    }
    return fault
  }
}

/** mulberry32: a small seeded PRNG, so a random plan is the same for the same seed. */
export const seededRandom = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A plan at random from `seed`: each request gets a fault with probability
 * `rate`, drawn from what `menu` offers for it (nothing when it offers none).
 */
export const random = (options: {
  readonly seed: number
  readonly rate: number
  readonly menu: (request: ProxyRequest, draw: () => number) => ReadonlyArray<Fault>
}): FaultPlan => {
  const draw = seededRandom(options.seed)
  return (request) => {
    if (draw() >= options.rate) return undefined
    const menu = options.menu(request, draw)
    return menu.length === 0 ? undefined : menu[Math.floor(draw() * menu.length)]
  }
}

/** One request the proxy received, and the fault it got. */
export interface ProxyLogEntry {
  readonly n: number
  readonly method: string
  readonly id: string | undefined
  /** The Range header asked for, if any (a resumed transfer). */
  readonly range: string | undefined
  /** The fault it got, if any. */
  readonly fault: Fault | undefined
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, to give lyra in place of the server's. */
  readonly base: string
  readonly log: ReadonlyArray<ProxyLogEntry>
  /** How many requests got each fault. */
  readonly injected: () => ReadonlyMap<FaultKind, number>
  /** Replaces the plan (between jobs of a soak). */
  readonly setPlan: (plan: FaultPlan) => void
  /** Forgets the log. */
  readonly clearLog: () => void
}

const loopPrefix = "/__redirect-loop/"

const htmlPage = "<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n"

/** A response written straight to the socket, so its framing can be wrong; the connection closes after it. */
const rawHead = (status: number, headers: http.IncomingHttpHeaders, contentLength: number) => {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}`]
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ["content-length", "transfer-encoding", "connection", "keep-alive"].includes(name)) continue
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`)
  }
  lines.push(`content-length: ${contentLength}`, "connection: close", "", "")
  return lines.join("\r\n")
}

/** Headers to pass on from the server's answer. */
const passHeaders = (headers: http.IncomingHttpHeaders) => {
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !["connection", "keep-alive", "transfer-encoding"].includes(name)) out[name] = value
  }
  return out
}

/**
 * Starts the proxy in front of `upstream` (a base URL like
 * `http://127.0.0.1:1234`), injecting faults as `plan` says.
 */
export const start = (upstream: string, initialPlan: FaultPlan) =>
  Effect.acquireRelease(
    Effect.async<{ readonly proxy: FaultProxy; readonly close: () => Promise<void> }>((resume) => {
      const target = new URL(upstream)
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
      const sockets = new Set<Socket>()
      const timers = new Set<NodeJS.Timeout>()
      const log: Array<ProxyLogEntry> = []
      let plan = initialPlan
      let count = 0

      const every = (millis: number, f: () => void) => {
        const timer = setInterval(f, millis)
        timers.add(timer)
        return () => {
          clearInterval(timer)
          timers.delete(timer)
        }
      }

      /** The same request to the real server, over the pooled agent; its answer goes to `onAnswer`. */
      const forwardOf = (req: http.IncomingMessage, onAnswer: (answer: http.IncomingMessage) => void) =>
        http.request({
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host, connection: "keep-alive" },
          agent
        }, onAnswer)

      /** Asks the real server, and hands its answer (status, headers, whole body) to `then`. */
      const fetchWhole = (
        req: http.IncomingMessage,
        fail: () => void,
        then: (status: number, headers: http.IncomingHttpHeaders, body: Buffer) => void
      ) => {
        const forward = forwardOf(req, (answer) => {
          const chunks: Array<Buffer> = []
          answer.on("data", (chunk: Buffer) => chunks.push(chunk))
          answer.on("end", () => then(answer.statusCode ?? 502, answer.headers, Buffer.concat(chunks)))
          answer.on("error", fail)
        })
        forward.on("error", fail)
        forward.end()
      }

      /** Asks the real server and streams its answer through untouched (plus `extra` headers). */
      const pass = (req: http.IncomingMessage, res: http.ServerResponse, extra: http.OutgoingHttpHeaders = {}) => {
        const forward = forwardOf(req, (answer) => {
          res.writeHead(answer.statusCode ?? 502, { ...passHeaders(answer.headers), ...extra })
          answer.pipe(res)
          answer.on("error", () => res.destroy())
        })
        forward.on("error", () => res.destroy())
        res.on("close", () => forward.destroy())
        forward.end()
      }

      const inject = (fault: Fault, req: http.IncomingMessage, res: http.ServerResponse) => {
        const socket = req.socket
        const broken = () => socket.destroy()
        switch (fault._tag) {
          case "Status": {
            const headers: http.OutgoingHttpHeaders = { "content-type": "text/plain" }
            if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter
            res.writeHead(fault.status, headers)
            res.end(`${fault.status} ${http.STATUS_CODES[fault.status] ?? ""}\n`)
            return
          }
          case "HtmlPage":
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
            res.end(htmlPage)
            return
          case "Redirect":
            res.writeHead(302, { location: fault.location(req.url ?? "/"), "content-type": "text/plain" })
            res.end("moved\n")
            return
          case "RedirectLoop": {
            const query = (req.url ?? "").replace(/^[^?]*/, "")
            res.writeHead(302, { location: `${loopPrefix}a${query}` })
            res.end()
            return
          }
          case "MalformedJson":
            res.writeHead(200, { "content-type": "application/json" })
            res.end(`{"subsonic-response": {"status": "ok", "version": "1.16.1", <<not json>>}}`)
            return
          case "OversizedJson": {
            const head = Buffer.from(`{"subsonic-response":{"status":"ok","version":"1.16.1","padding":"`)
            const tail = Buffer.from(`"}}`)
            const fill = Buffer.alloc(64 * 1024, "x")
            const total = Math.max(fault.bytes, head.length + tail.length)
            res.writeHead(200, {
              "content-type": "application/json",
              ...(fault.declareLength ? { "content-length": String(total) } : {})
            })
            res.write(head)
            let left = total - head.length - tail.length
            const more = () => {
              while (left > 0) {
                const piece = fill.subarray(0, Math.min(fill.length, left))
                left -= piece.length
                if (!res.write(piece)) return void res.once("drain", more)
              }
              res.end(tail)
            }
            res.on("close", () => (left = 0))
            more()
            return
          }
          case "TruncatedJson":
            return fetchWhole(req, broken, (status, headers, body) => {
              const cut = body.subarray(0, Math.floor(body.length / 2))
              res.writeHead(status, { ...passHeaders(headers), "content-length": String(cut.length) })
              res.end(cut)
            })
          case "ExtraHeader":
            return pass(req, res, { [fault.name]: fault.value })
          case "Reset":
          case "ShortBody":
          case "Stall":
          case "WrongLength":
          case "Trickle":
            return fetchWhole(req, broken, (status, headers, body) => {
              if (socket.destroyed) return
              if (fault._tag === "WrongLength") {
                socket.write(rawHead(status, headers, Math.max(0, body.length + fault.delta)))
                socket.end(body)
                return
              }
              socket.write(rawHead(status, headers, body.length))
              if (fault._tag === "Trickle") {
                let sent = 0
                const stop = every(fault.everyMillis, () => {
                  if (socket.destroyed) return stop()
                  const piece = body.subarray(sent, sent + fault.bytes)
                  sent += piece.length
                  if (sent >= body.length) {
                    stop()
                    socket.end(piece)
                  } else socket.write(piece)
                })
                socket.on("close", stop)
                return
              }
              const half = Math.floor(body.length / 2)
              const upTo = Math.min(body.length, fault.afterBytes ?? (fault._tag === "Stall" ? 0 : half))
              if (upTo > 0) socket.write(body.subarray(0, upTo))
              // Stall: nothing more; lyra's stall timeout ends it (or the proxy closing).
              if (fault._tag === "Reset") socket.resetAndDestroy()
              if (fault._tag === "ShortBody") socket.end()
            })
        }
      }

      const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://proxy")
        if (url.pathname.startsWith(loopPrefix)) {
          // The other half of a loop: back again, for ever.
          const next = url.pathname.endsWith("a") ? "b" : "a"
          res.writeHead(302, { location: `${loopPrefix}${next}${url.search}` })
          res.end()
          return
        }
        const request: ProxyRequest = {
          n: ++count,
          httpMethod: req.method ?? "GET",
          path: url.pathname,
          method: url.pathname.replace(/^\/rest\//, "").replace(/\.view$/, ""),
          params: url.searchParams,
          headers: req.headers
        }
        const fault = plan(request)
        log.push({
          n: request.n,
          method: request.method,
          id: request.params.get("id") ?? undefined,
          range: req.headers.range,
          fault
        })
        if (fault === undefined) pass(req, res)
        else inject(fault, req, res)
      })
      server.keepAliveTimeout = 30_000
      server.on("connection", (socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        // A client that hangs up mid-fault is not the proxy's error.
        socket.on("error", () => {})
      })
      server.on("clientError", (_error, socket) => socket.destroy())

      const close = () =>
        new Promise<void>((done) => {
          for (const timer of timers) clearInterval(timer)
          timers.clear()
          for (const socket of sockets) socket.destroy()
          agent.destroy()
          server.close(() => done())
        })

      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        const proxy: FaultProxy = {
          base: `http://127.0.0.1:${port}`,
          log,
          injected: () => {
            const counts = new Map<FaultKind, number>()
            for (const entry of log) {
              if (entry.fault !== undefined) counts.set(entry.fault._tag, (counts.get(entry.fault._tag) ?? 0) + 1)
            }
            return counts
          },
          setPlan: (next) => {
            plan = next
          },
          clearLog: () => {
            log.length = 0
          }
        }
        resume(Effect.succeed({ proxy, close }))
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ proxy }) => proxy))
