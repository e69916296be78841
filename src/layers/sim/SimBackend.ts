import type * as Scope from "effect/Scope"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { NotFoundError, RateLimitedError, TransientError } from "../../services/MusicApiError.js"
import type { Latency, SimProfile } from "./SimProfile.js"
import type { SimEndpoint, SimRequest, SimStats } from "./SimServer.js"

const provider = "sim"

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

/** A transfer the server has begun: its log entry, and where it will break, if it does. */
interface OpenedTransfer {
  readonly entry: SimRequest
  readonly breakAt: number | undefined
}

/** A request, as the server tells one from another: what it asks for. */
const requestKey = (request: SimRequest) => `${request.endpoint} ${request.id}`

/** How far behind its schedule a transfer may be and still catch up. */
const catchUpMillis = 50

/**
 * The simulated server's side of every request: its token bucket, its connection
 * cap, latencies and faults, and the books tests read. State is plain and
 * synchronous: fibers interleave only at yields.
 *
 * Each request draws its latency and faults from a Random of its own, seeded by
 * the profile's seed, what it asks for and how often that failed before: the same
 * request meets the same service whatever else is in flight, so a sequential and a
 * concurrent run (or two runs whose timers fire a little apart) face one service.
 */
export class SimBackend {
  private tokens: number
  private refilledAt: number | undefined = undefined
  private readonly log: Array<Mutable<SimRequest>> = []
  private readonly served = new Map<string, number>()
  /** How often each request (endpoint and id) has failed, so that a retry draws anew: failed ones only. */
  private readonly failures = new Map<string, number>()
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

  constructor(readonly profile: SimProfile) {
    this.tokens = profile.burst
  }

  /**
   * One API call: arrival, the bucket, the connection cap, a round trip of latency
   * (plus `extraMillis`), a possible fault, then `answer()`; `undefined` is a 404.
   */
  call<A>(endpoint: SimEndpoint, id: string, extraMillis: number, what: string, answer: () => A | undefined) {
    return Effect.gen(this, function*() {
      const entry = yield* this.arrive(endpoint, id)
      const random = this.drawsFor(entry)
      yield* this.admit(entry, random)
      return yield* Effect.acquireUseRelease(
        Effect.sync(() => this.connect("api")),
        () =>
          Effect.gen(this, function*() {
            yield* this.roundTrip(random, extraMillis)
            yield* this.maybeFault(entry, random)
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
   * Opens a transfer of bytes [offset, size): a rate-limited request whose connection stays open
   * until the scope closes, and whose first byte comes one latency later. One that breaks does so
   * somewhere after its first byte.
   */
  openTransfer(
    trackId: string,
    offset: number,
    size: number
  ): Effect.Effect<OpenedTransfer, TransientError | RateLimitedError, Scope.Scope> {
    return Effect.gen(this, function*() {
      const entry = yield* this.arrive("stream", trackId)
      const random = this.drawsFor(entry)
      entry.offset = offset
      entry.bytes = 0
      yield* this.admit(entry, random)
      yield* Effect.acquireRelease(
        Effect.sync(() => this.connect("transfer")),
        () => this.disconnect("transfer", entry)
      )
      yield* this.roundTrip(random, 0)
      yield* this.maybeFault(entry, random)
      entry.status = offset > 0 ? 206 : 200
      if (this.profile.errorRate <= 0 || size - offset < 2 || (yield* random.next) >= this.profile.errorRate) {
        return { entry, breakAt: undefined }
      }
      this.failed(entry)
      return { entry, breakAt: offset + 1 + Math.floor((yield* random.next) * (size - offset - 1)) }
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

  /** The request's own draws: from the seed, what it asks for, and how often that failed. */
  private drawsFor(entry: SimRequest): Random.Random {
    const key = requestKey(entry)
    return Random.make(`${this.profile.seed} ${key} ${this.failures.get(key) ?? 0}`)
  }

  /** A failed request: its retry draws anew. */
  private failed(entry: SimRequest): void {
    const key = requestKey(entry)
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1)
  }

  /** The bucket and the cap, checked on arrival; a refusal still costs a round trip. */
  private admit(
    entry: Mutable<SimRequest>,
    random: Random.Random
  ): Effect.Effect<void, TransientError | RateLimitedError> {
    return Effect.gen(this, function*() {
      const wait = this.takeToken(entry.at)
      if (wait !== undefined) {
        this.counts.rateLimited++
        this.failed(entry)
        yield* this.roundTrip(random, 0)
        yield* this.finish(entry, 429)
        return yield* new RateLimitedError({
          provider,
          status: 429,
          ...(this.profile.retryAfter ? { retryAfterMillis: wait } : {})
        })
      }
      if (this.counts.apiInFlight + this.counts.transfers >= this.profile.connections) {
        this.counts.faults++
        this.failed(entry)
        yield* this.roundTrip(random, 0)
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

  private roundTrip(random: Random.Random, extraMillis: number) {
    return Effect.flatMap(this.drawLatency(random, this.profile.latency), (millis) => {
      const total = millis + extraMillis
      return total > 0 ? Effect.sleep(total) : Effect.void
    })
  }

  private drawLatency(random: Random.Random, latency: Latency): Effect.Effect<number> {
    switch (latency._tag) {
      case "Fixed":
        return Effect.succeed(latency.millis)
      case "Uniform":
        return Effect.map(random.next, (u) => Math.round(latency.min + u * (latency.max - latency.min)))
      case "LogNormal":
        return Effect.zipWith(random.next, random.next, (u1, u2) => {
          // Box-Muller: a standard normal from two uniforms (1 - u1 keeps the log finite).
          const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
          return Math.round(latency.median * Math.exp(latency.sigma * z))
        })
    }
  }

  private maybeFault(entry: Mutable<SimRequest>, random: Random.Random): Effect.Effect<void, TransientError> {
    return Effect.gen(this, function*() {
      if (this.profile.errorRate <= 0) return
      if ((yield* random.next) >= this.profile.errorRate) return
      this.counts.faults++
      this.failed(entry)
      const reset = (yield* random.next) < 0.5
      yield* this.finish(entry, 503)
      return yield* new TransientError({ provider, reason: reset ? "connection reset" : "HTTP 503" })
    })
  }
}
