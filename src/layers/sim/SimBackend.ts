import type * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { NotFoundError, RateLimitedError, TransientError } from "../../services/MusicApiError.js"
import type { Latency, SimProfile } from "./SimProfile.js"
import type { SimEndpoint, SimRequest, SimStats } from "./SimServer.js"

const provider = "sim"

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

/** How far behind its schedule a transfer may be and still catch up. */
const catchUpMillis = 50

/**
 * The simulated server's side of every request: its token bucket, its connection
 * cap, latencies and faults drawn from the provider's own Random, and the books
 * tests read. State is plain and synchronous: fibers interleave only at yields.
 */
export class SimBackend {
  private tokens: number
  private refilledAt: number | undefined = undefined
  private readonly log: Array<Mutable<SimRequest>> = []
  private readonly served = new Map<string, number>()
  private counts = {
    rateLimited: 0,
    faults: 0,
    notFound: 0,
    apiInFlight: 0,
    maxApiInFlight: 0,
    transfers: 0,
    maxTransfers: 0,
    maxConnections: 0,
    bytesServed: 0
  }

  constructor(readonly profile: SimProfile, private readonly random: Random.Random) {
    this.tokens = profile.burst
  }

  /**
   * One API call: arrival, the bucket, the connection cap, a round trip of latency
   * (plus `extraMillis`), a possible fault, then `answer()`; `undefined` is a 404.
   */
  call<A>(endpoint: SimEndpoint, id: string, extraMillis: number, what: string, answer: () => A | undefined) {
    return Effect.gen(this, function*() {
      const entry = yield* this.arrive(endpoint, id)
      yield* this.admit(entry)
      return yield* Effect.acquireUseRelease(
        Effect.sync(() => this.connect("api")),
        () =>
          Effect.gen(this, function*() {
            yield* this.roundTrip(extraMillis)
            yield* this.maybeFault(entry)
            const value = answer()
            if (value === undefined) {
              this.counts.notFound++
              yield* this.finish(entry, 404)
              return yield* new NotFoundError({ provider, what })
            }
            yield* this.finish(entry, 200)
            return value
          }),
        () => this.disconnect("api", entry)
      )
    })
  }

  /**
   * Opens a byte transfer: a rate-limited request whose connection stays open
   * until the scope closes, and whose first byte comes one latency later.
   */
  openTransfer(trackId: string, offset: number): Effect.Effect<SimRequest, TransientError | RateLimitedError, Scope.Scope> {
    return Effect.gen(this, function*() {
      const entry = yield* this.arrive("stream", trackId)
      entry.offset = offset
      entry.bytes = 0
      yield* this.admit(entry)
      yield* Effect.acquireRelease(
        Effect.sync(() => this.connect("transfer")),
        () => this.disconnect("transfer", entry)
      )
      yield* this.roundTrip(0)
      yield* this.maybeFault(entry)
      entry.status = offset > 0 ? 206 : 200
      return entry
    })
  }

  /** Where a transfer of [offset, size) breaks, if it does: somewhere after its first byte. */
  transferBreak(offset: number, size: number): Effect.Effect<number | undefined> {
    return Effect.gen(this, function*() {
      if (this.profile.errorRate <= 0 || size - offset < 2) return undefined
      if ((yield* this.random.next) >= this.profile.errorRate) return undefined
      return offset + 1 + Math.floor((yield* this.random.next) * (size - offset - 1))
    })
  }

  /** Books bytes sent on a transfer. */
  sent(entry: SimRequest, trackId: string, bytes: number): void {
    ;(entry as Mutable<SimRequest>).bytes = (entry.bytes ?? 0) + bytes
    this.served.set(trackId, (this.served.get(trackId) ?? 0) + bytes)
    this.counts.bytesServed += bytes
  }

  /** Books a transfer that broke part-way, and answers its error. */
  broke(entry: SimRequest): TransientError {
    this.counts.faults++
    return new TransientError({ provider, reason: `connection reset after ${entry.bytes ?? 0} bytes` })
  }

  /**
   * The per-connection bandwidth of a transfer from byte `start`, kept to the clock as a server keeps
   * it: each chunk is due at an instant, rounded so waits add up exactly. A chunk sent late (a busy
   * event loop on the live clock) is made up by the next ones, but by no more than `catchUpMillis`:
   * a reader that stopped reading gets no burst.
   */
  pace(start: number): (from: number, to: number) => Effect.Effect<void> {
    const bandwidth = this.profile.bandwidth
    if (!Number.isFinite(bandwidth)) return () => Effect.void
    let origin: number | undefined
    const dueAt = (byte: number) => origin! + Math.round(((byte - start) * 1000) / bandwidth)
    return (from, to) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        origin ??= now
        const behind = now - dueAt(from)
        if (behind > catchUpMillis) origin += behind - catchUpMillis
        const wait = dueAt(to) - now
        return wait > 0 ? Effect.sleep(wait) : Effect.void
      })
  }

  readonly requests: Effect.Effect<ReadonlyArray<SimRequest>> = Effect.sync(() => this.log.map((entry) => ({ ...entry })))

  readonly bytesServed: Effect.Effect<ReadonlyMap<string, number>> = Effect.sync(() => new Map(this.served))

  readonly stats: Effect.Effect<SimStats> = Effect.sync(() => ({
    requests: this.log.length,
    rateLimited: this.counts.rateLimited,
    faults: this.counts.faults,
    notFound: this.counts.notFound,
    apiInFlight: this.counts.apiInFlight,
    maxApiInFlight: this.counts.maxApiInFlight,
    transfers: this.counts.transfers,
    maxTransfers: this.counts.maxTransfers,
    connections: this.counts.apiInFlight + this.counts.transfers,
    maxConnections: this.counts.maxConnections,
    bytesServed: this.counts.bytesServed
  }))

  // -- the steps ------------------------------------------------------------------------------

  private arrive(endpoint: SimEndpoint, id: string) {
    return Effect.map(Clock.currentTimeMillis, (at) => {
      const entry: Mutable<SimRequest> = { at, endpoint, id, status: 0 }
      this.log.push(entry)
      return entry
    })
  }

  /** The bucket and the cap, checked on arrival; a refusal still costs a round trip. */
  private admit(entry: Mutable<SimRequest>): Effect.Effect<void, TransientError | RateLimitedError> {
    return Effect.gen(this, function*() {
      const wait = this.takeToken(entry.at)
      if (wait !== undefined) {
        this.counts.rateLimited++
        yield* this.roundTrip(0)
        yield* this.finish(entry, 429)
        return yield* new RateLimitedError({
          provider,
          status: 429,
          ...(this.profile.retryAfter ? { retryAfterMillis: wait } : {})
        })
      }
      if (this.counts.apiInFlight + this.counts.transfers >= this.profile.connections) {
        this.counts.faults++
        yield* this.roundTrip(0)
        yield* this.finish(entry, 503)
        return yield* new TransientError({ provider, reason: "HTTP 503 (too many connections)" })
      }
    })
  }

  /** Takes a token, or answers the Retry-After in whole seconds (at least one) until one is due. */
  private takeToken(now: number): number | undefined {
    const { burst, rate } = this.profile
    if (!Number.isFinite(rate)) return undefined
    if (this.refilledAt !== undefined) {
      this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * rate) / 1000)
    }
    this.refilledAt = now
    // The epsilon absorbs float error in the refill, e.g. 3 tokens/s after 1/3 s.
    if (this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1)
      return undefined
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / rate)) * 1000
  }

  private connect(kind: "api" | "transfer"): void {
    if (kind === "api") {
      this.counts.apiInFlight++
      this.counts.maxApiInFlight = Math.max(this.counts.maxApiInFlight, this.counts.apiInFlight)
    } else {
      this.counts.transfers++
      this.counts.maxTransfers = Math.max(this.counts.maxTransfers, this.counts.transfers)
    }
    const open = this.counts.apiInFlight + this.counts.transfers
    this.counts.maxConnections = Math.max(this.counts.maxConnections, open)
  }

  private disconnect(kind: "api" | "transfer", entry: Mutable<SimRequest>) {
    return Effect.gen(this, function*() {
      if (kind === "api") this.counts.apiInFlight--
      else this.counts.transfers--
      if (entry.status === 0) entry.status = 499
      if (entry.doneAt === undefined) entry.doneAt = yield* Clock.currentTimeMillis
    })
  }

  private finish(entry: Mutable<SimRequest>, status: number) {
    return Effect.map(Clock.currentTimeMillis, (now) => {
      entry.status = status
      entry.doneAt = now
    })
  }

  private roundTrip(extraMillis: number) {
    return Effect.flatMap(this.drawLatency(this.profile.latency), (millis) => {
      const total = millis + extraMillis
      return total > 0 ? Effect.sleep(total) : Effect.void
    })
  }

  private drawLatency(latency: Latency): Effect.Effect<number> {
    switch (latency._tag) {
      case "Fixed":
        return Effect.succeed(latency.millis)
      case "Uniform":
        return Effect.map(this.random.next, (u) => Math.round(latency.min + u * (latency.max - latency.min)))
      case "LogNormal":
        return Effect.zipWith(this.random.next, this.random.next, (u1, u2) => {
          // Box-Muller: a standard normal from two uniforms (1 - u1 keeps the log finite).
          const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
          return Math.round(latency.median * Math.exp(latency.sigma * z))
        })
    }
  }

  private maybeFault(entry: Mutable<SimRequest>): Effect.Effect<void, TransientError> {
    return Effect.gen(this, function*() {
      if (this.profile.errorRate <= 0) return
      if ((yield* this.random.next) >= this.profile.errorRate) return
      this.counts.faults++
      const reset = (yield* this.random.next) < 0.5
      yield* this.finish(entry, 503)
      return yield* new TransientError({ provider, reason: reset ? "connection reset" : "HTTP 503" })
    })
  }
}
