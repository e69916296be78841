import type * as Effect from "effect/Effect"
import * as Context from "effect/Context"
import type { Provider } from "../../services/Provider.js"
import type { SimCatalog } from "./SimCatalog.js"
import type { SimProfile } from "./SimProfile.js"

/** The simulated service's endpoints: metadata calls, the source lookup, byte transfers, covers and lyrics. */
export type SimEndpoint =
  | "track"
  | "tracks"
  | "album"
  | "artist"
  | "playlist"
  | "search"
  | "source"
  | "stream"
  | "cover"
  | "lyrics"

/** One request as the server saw it. */
export interface SimRequest {
  /** Arrival, in Clock milliseconds. */
  readonly at: number
  readonly endpoint: SimEndpoint
  /** The id asked for; ids joined by "," for `tracks`, `kind:query` for `search`. */
  readonly id: string
  /** 200, 206 (a ranged transfer), 404, 429 or 503; 0 while in flight, 499 when the client went away first. */
  readonly status: number
  /** When the answer (or, for a transfer, its last byte) left, in Clock milliseconds. */
  readonly doneAt?: number
  /** For transfers: the first byte asked for, and how many bytes were sent. */
  readonly offset?: number
  readonly bytes?: number
}

export interface SimStats {
  readonly requests: number
  /** 429 answers. */
  readonly rateLimited: number
  /** 503 answers, connection resets and transfers broken part-way. */
  readonly faults: number
  readonly notFound: number
  /** Metadata and source calls in flight (transfers not included), now and at most. */
  readonly apiInFlight: number
  readonly maxApiInFlight: number
  /** Byte transfers open, now and at most. */
  readonly transfers: number
  readonly maxTransfers: number
  /** Every open connection (API calls and transfers), now and at most: what the connection cap counts. */
  readonly connections: number
  readonly maxConnections: number
  readonly bytesServed: number
}

/** The simulated service as tests and benchmarks see it: its provider, and what it was asked. */
export interface SimServerHandle {
  readonly provider: Provider
  readonly profile: SimProfile
  readonly catalog: SimCatalog
  /** Every request so far, in order of arrival. */
  readonly requests: Effect.Effect<ReadonlyArray<SimRequest>>
  readonly stats: Effect.Effect<SimStats>
  /** Bytes sent per track id, over all its transfers. */
  readonly bytesServed: Effect.Effect<ReadonlyMap<string, number>>
}

export class SimServer extends Context.Tag("lyra/SimServer")<SimServer, SimServerHandle>() {}
