import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import { parseBandwidth, parseMillis } from "../../domain/Units.js"
import { UsageError } from "../../domain/UsageError.js"
import type { CatalogShape, Range } from "./SimCatalog.js"
import { defaultShape } from "./SimCatalog.js"

/** How long one API round trip takes, in milliseconds. */
export type Latency =
  | { readonly _tag: "Fixed"; readonly millis: number }
  | { readonly _tag: "Uniform"; readonly min: number; readonly max: number }
  /** exp(N(ln median, sigma)): mostly near the median, with a long tail of slow calls. */
  | { readonly _tag: "LogNormal"; readonly median: number; readonly sigma: number }

/** How the simulated service behaves. Unlimited rates, bandwidths and caps are `Infinity`. */
export interface SimProfile {
  readonly seed: number
  readonly latency: Latency
  /** Extra milliseconds per id in a batch call. */
  readonly perItemMillis: number
  /** Server-side token bucket: requests per second and burst. */
  readonly rate: number
  readonly burst: number
  /** Whether 429 answers carry a Retry-After. */
  readonly retryAfter: boolean
  /** The chance, 0..1, that a request fails with a 503 or a reset (and, again, that a transfer breaks part-way). */
  readonly errorRate: number
  /** Bytes per second per connection. */
  readonly bandwidth: number
  /** Connections (API calls and transfers) open at once; more get a 503. */
  readonly connections: number
  readonly shape: CatalogShape
  /** Track ids whose source always fails NotFound. */
  readonly failTracks: ReadonlyArray<string>
  /** Track ids served with one flipped byte on their first transfer. */
  readonly corruptTracks: ReadonlyArray<string>
  /** Bytes per paced step of a transfer: bigger steps cost a simulation fewer sleeps. */
  readonly chunkBytes: number
  /**
   * `content`: every track's real, checksummed bytes. `virtual`: zero bytes and no checksum, for
   * simulations that model time, not content (a corrupt track's first transfer then ends a byte short).
   */
  readonly payload: "content" | "virtual"
  /**
   * The shape of the API. `orpheus`: albums list track ids (one batched lookup), a source call per
   * track, lyrics. `subsonic`: albums list their tracks, a track's download URL needs no call (as
   * OpenSubsonic's `download` is signed locally), no lyrics: the calls a Subsonic server sees.
   */
  readonly apiStyle: "orpheus" | "subsonic"
}

export const defaultProfile: SimProfile = {
  seed: 1,
  latency: { _tag: "LogNormal", median: 40, sigma: 0.4 },
  perItemMillis: 1,
  rate: 50,
  burst: 20,
  retryAfter: true,
  errorRate: 0.01,
  bandwidth: 4_000_000,
  connections: Infinity,
  shape: defaultShape,
  failTracks: [],
  corruptTracks: [],
  chunkBytes: 64 * 1024,
  payload: "content",
  apiStyle: "orpheus"
}

/** The default profile with some fields replaced. */
export const make = (overrides: Partial<SimProfile> = {}): SimProfile => ({ ...defaultProfile, ...overrides })

/** A quiet, exact profile for tests: fixed latency, no limits, no faults. */
export const exact = (overrides: Partial<SimProfile> = {}): SimProfile =>
  make({
    latency: { _tag: "Fixed", millis: 40 },
    rate: Infinity,
    errorRate: 0,
    ...overrides
  })

// -- parsers: each answers undefined for a value it does not accept ----------------------------

const number = /^\d+(?:\.\d+)?$/
const unlimited = /^(unlimited|none|off|inf|infinity)$/i

/** `40ms`, `20ms..80ms` (uniform) or `lognormal:40ms:0.5` (median, sigma). */
export const parseLatency = (text: string): Latency | undefined => {
  const value = text.trim()
  const logNormal = /^lognormal:([^:]+):([^:]+)$/i.exec(value)
  if (logNormal !== null) {
    const median = parseMillis(logNormal[1] ?? "")
    const sigma = number.test(logNormal[2] ?? "") ? Number(logNormal[2]) : undefined
    return median === undefined || sigma === undefined ? undefined : { _tag: "LogNormal", median, sigma }
  }
  const range = /^(.+)\.\.(.+)$/.exec(value)
  if (range !== null) {
    const min = parseMillis(range[1] ?? "")
    const max = parseMillis(range[2] ?? "")
    return min === undefined || max === undefined || min > max ? undefined : { _tag: "Uniform", min, max }
  }
  const millis = parseMillis(value)
  return millis === undefined ? undefined : { _tag: "Fixed", millis }
}

const perUnit: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 }

/** `50/s`, `3000/min`, `50/s,burst=20`, or `off`. */
export const parseRateLimit = (text: string): { readonly rate: number; readonly burst?: number } | undefined => {
  const [head = "", ...options] = text.trim().split(",").map((part) => part.trim())
  let rate: number
  if (unlimited.test(head)) {
    rate = Infinity
  } else {
    const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h))?$/i.exec(head)
    if (match === null) return undefined
    rate = Number(match[1]) / (perUnit[(match[2] ?? "s").toLowerCase()] ?? 1)
    if (!(rate > 0)) return undefined
  }
  if (options.length === 0) return { rate }
  if (options.length > 1) return undefined
  const burst = /^burst\s*=\s*(\d+)$/i.exec(options[0] ?? "")
  if (burst === null || Number(burst[1]) < 1) return undefined
  return { rate, burst: Number(burst[1]) }
}


const parseOnOff = (text: string): boolean | undefined => {
  const value = text.trim().toLowerCase()
  if (["on", "true", "yes", "1"].includes(value)) return true
  if (["off", "false", "no", "0"].includes(value)) return false
  return undefined
}

/** `0.01` or `1%`. */
const parseRate = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(%)?$/.exec(text.trim())
  if (match === null) return undefined
  const value = Number(match[1]) / (match[2] === undefined ? 1 : 100)
  return value <= 1 ? value : undefined
}

const parseCount = (text: string, max: number): number | undefined => {
  const value = text.trim()
  return /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= max ? Number(value) : undefined
}

/** `2..6` or `4`; a range of whole numbers (durations may carry units). */
const parseRange = (text: string, parse: (part: string) => number | undefined): Range | undefined => {
  const [low = "", high, ...rest] = text.split("..")
  const min = parse(low)
  const max = high === undefined ? min : parse(high)
  if (rest.length > 0 || min === undefined || max === undefined || min > max) return undefined
  return { min: Math.round(min), max: Math.round(max) }
}

const parseIds = (text: string): ReadonlyArray<string> | undefined => {
  const ids = text.split(",").map((id) => id.trim()).filter((id) => id.length > 0)
  return ids.every((id) => /^\d+$/.test(id)) ? ids : undefined
}

// -- settings: one table for the environment and for `--sim key=value` ------------------------

interface Setting {
  readonly key: string
  readonly expected: string
  readonly apply: (profile: SimProfile, value: string) => SimProfile | undefined
}

const withShape = (profile: SimProfile, shape: Partial<CatalogShape>): SimProfile => ({
  ...profile,
  shape: { ...profile.shape, ...shape }
})

const settings: ReadonlyArray<Setting> = [
  {
    key: "seed",
    expected: "an integer",
    apply: (p, v) => /^-?\d{1,15}$/.test(v.trim()) ? { ...p, seed: Number(v) } : undefined
  },
  {
    key: "latency",
    expected: "a latency like 40ms, 20ms..80ms or lognormal:40ms:0.5",
    apply: (p, v) => {
      const latency = parseLatency(v)
      return latency === undefined ? undefined : { ...p, latency }
    }
  },
  {
    key: "batch-cost",
    expected: "a duration per batched id, like 1ms",
    apply: (p, v) => {
      const millis = parseMillis(v)
      return millis === undefined ? undefined : { ...p, perItemMillis: millis }
    }
  },
  {
    key: "rate-limit",
    expected: "a rate like 50/s or 50/s,burst=20, or off",
    apply: (p, v) => {
      const limit = parseRateLimit(v)
      return limit === undefined ? undefined : { ...p, rate: limit.rate, burst: limit.burst ?? p.burst }
    }
  },
  {
    key: "burst",
    expected: "a whole number of requests, at least 1",
    apply: (p, v) => {
      const burst = parseCount(v, 1e9)
      return burst === undefined ? undefined : { ...p, burst }
    }
  },
  {
    key: "retry-after",
    expected: "on or off",
    apply: (p, v) => {
      const retryAfter = parseOnOff(v)
      return retryAfter === undefined ? undefined : { ...p, retryAfter }
    }
  },
  {
    key: "error-rate",
    expected: "a probability from 0 to 1, like 0.01 or 1%",
    apply: (p, v) => {
      const errorRate = parseRate(v)
      return errorRate === undefined ? undefined : { ...p, errorRate }
    }
  },
  {
    key: "bandwidth",
    expected: "a rate per connection like 4MB/s, 512KiB/s or 100Mbit/s, or unlimited",
    apply: (p, v) => {
      const bandwidth = parseBandwidth(v)
      return bandwidth === undefined ? undefined : { ...p, bandwidth }
    }
  },
  {
    key: "connections",
    expected: "a whole number of connections, at least 1, or unlimited",
    apply: (p, v) => {
      const connections = unlimited.test(v.trim()) ? Infinity : parseCount(v, 1e9)
      return connections === undefined ? undefined : { ...p, connections }
    }
  },
  {
    key: "artists",
    expected: "a whole number from 1 to 1000000",
    apply: (p, v) => {
      const artists = parseCount(v, 1_000_000)
      return artists === undefined ? undefined : withShape(p, { artists })
    }
  },
  {
    key: "albums",
    expected: "albums per artist, like 2..6 (from 1 to 99)",
    apply: (p, v) => {
      const albumsPerArtist = parseRange(v, (part) => parseCount(part, 99))
      return albumsPerArtist === undefined ? undefined : withShape(p, { albumsPerArtist })
    }
  },
  {
    key: "tracks",
    expected: "tracks per album, like 6..14 (from 1 to 999)",
    apply: (p, v) => {
      const tracksPerAlbum = parseRange(v, (part) => parseCount(part, 999))
      return tracksPerAlbum === undefined ? undefined : withShape(p, { tracksPerAlbum })
    }
  },
  {
    key: "duration",
    expected: "a track duration range like 150s..345s",
    apply: (p, v) => {
      const range = parseRange(v, (part) => {
        const millis = parseMillis(part, "s")
        return millis === undefined || millis < 1000 ? undefined : millis / 1000
      })
      return range === undefined ? undefined : withShape(p, { trackSeconds: range })
    }
  },
  {
    key: "audio-rate",
    expected: "audio bytes per second of track, like 3.5KB/s",
    apply: (p, v) => {
      const rate = parseBandwidth(v)
      return rate === undefined || !Number.isFinite(rate) ? undefined : withShape(p, { audioBytesPerSecond: Math.max(1, Math.round(rate)) })
    }
  },
  {
    key: "compilations",
    expected: "the share of artists (3+ albums) whose last album is a best-of, from 0 to 1",
    apply: (p, v) => {
      const compilationRate = parseRate(v)
      return compilationRate === undefined ? undefined : withShape(p, { compilationRate })
    }
  },
  {
    key: "playlists",
    expected: "a whole number of playlists",
    apply: (p, v) => {
      const playlists = /^\d+$/.test(v.trim()) ? Number(v) : undefined
      return playlists === undefined ? undefined : withShape(p, { playlists })
    }
  },
  {
    key: "fail",
    expected: "track ids separated by commas",
    apply: (p, v) => {
      const failTracks = parseIds(v)
      return failTracks === undefined ? undefined : { ...p, failTracks }
    }
  },
  {
    key: "chunk",
    expected: "bytes per paced step of a transfer, like 64KiB or 1MB",
    apply: (p, v) => {
      const bytes = parseBandwidth(v)
      return bytes === undefined || !Number.isFinite(bytes) || bytes < 1 ? undefined : { ...p, chunkBytes: Math.round(bytes) }
    }
  },
  {
    key: "payload",
    expected: "content or virtual",
    apply: (p, v) => {
      const payload = v.trim().toLowerCase()
      return payload === "content" || payload === "virtual" ? { ...p, payload } : undefined
    }
  },
  {
    key: "api-style",
    expected: "orpheus or subsonic",
    apply: (p, v) => {
      const apiStyle = v.trim().toLowerCase()
      return apiStyle === "orpheus" || apiStyle === "subsonic" ? { ...p, apiStyle } : undefined
    }
  },
  {
    key: "corrupt",
    expected: "track ids separated by commas",
    apply: (p, v) => {
      const corruptTracks = parseIds(v)
      return corruptTracks === undefined ? undefined : { ...p, corruptTracks }
    }
  }
]

/** The keys `--sim key=value` accepts. */
export const keys: ReadonlyArray<string> = settings.map((setting) => setting.key)

const envName = (key: string): string => `LYRA_SIM_${key.toUpperCase().replace(/-/g, "_")}`

const findSetting = (key: string): Setting | undefined => {
  const normal = key.trim().toLowerCase().replace(/_/g, "-")
  return settings.find((setting) => setting.key === normal)
}

const applySetting = (profile: SimProfile, setting: Setting, value: string, label: string) => {
  const next = setting.apply(profile, value)
  return next === undefined
    ? Effect.fail(new UsageError({ message: `${label}=${JSON.stringify(value)}: expected ${setting.expected}` }))
    : Effect.succeed(next)
}

/** Applies `key=value` entries (as given to `--sim`), in order, to a profile. */
export const applyEntries = Effect.fnUntraced(function*(
  entries: ReadonlyArray<string>,
  base: SimProfile = defaultProfile
) {
  let profile = base
  for (const entry of entries) {
    const eq = entry.indexOf("=")
    if (eq < 0) {
      return yield* new UsageError({ message: `--sim ${JSON.stringify(entry)}: expected key=value` })
    }
    const key = entry.slice(0, eq)
    const setting = findSetting(key)
    if (setting === undefined) {
      return yield* new UsageError({
        message: `--sim: unknown key ${JSON.stringify(key.trim())} (expected one of ${keys.join(", ")})`
      })
    }
    profile = yield* applySetting(profile, setting, entry.slice(eq + 1), `--sim ${setting.key}`)
  }
  return profile
})

/**
 * Reads the profile from the ConfigProvider (the environment by default):
 * LYRA_SIM_SEED, LYRA_SIM_LATENCY, LYRA_SIM_RATE_LIMIT, LYRA_SIM_RETRY_AFTER,
 * LYRA_SIM_ERROR_RATE, LYRA_SIM_BANDWIDTH, LYRA_SIM_CONNECTIONS, LYRA_SIM_ARTISTS, and
 * one variable for each other `--sim` key.
 */
export const fromConfig = Effect.fnUntraced(function*(base: SimProfile = defaultProfile) {
  let profile = base
  for (const setting of settings) {
    const name = envName(setting.key)
    const value = yield* Config.string(name).pipe(
      Config.option,
      Effect.mapError((error) => new UsageError({ message: `${name}: ${error}` }))
    )
    if (value._tag === "Some") profile = yield* applySetting(profile, setting, value.value, name)
  }
  return profile
})

/** The environment first, then `--sim` entries over it. */
export const load = (entries: ReadonlyArray<string> = []): Effect.Effect<SimProfile, UsageError> =>
  Effect.flatMap(fromConfig(), (profile) => applyEntries(entries, profile))

// -- formatting ----------------------------------------------------------------------------------

const ms = (millis: number): string => `${+millis.toFixed(3)}ms`

export const formatLatency = (latency: Latency): string => {
  switch (latency._tag) {
    case "Fixed":
      return ms(latency.millis)
    case "Uniform":
      return `${ms(latency.min)}..${ms(latency.max)}`
    case "LogNormal":
      return `lognormal:${ms(latency.median)}:${latency.sigma}`
  }
}

export const formatBandwidth = (bytesPerSecond: number): string => {
  if (!Number.isFinite(bytesPerSecond)) return "unlimited"
  if (bytesPerSecond >= 1e6) return `${+(bytesPerSecond / 1e6).toFixed(3)}MB/s`
  if (bytesPerSecond >= 1e3) return `${+(bytesPerSecond / 1e3).toFixed(3)}KB/s`
  return `${+bytesPerSecond.toFixed(3)}B/s`
}

/** One line, in the `--sim` syntax, for logs and `lyra simulate`. */
export const describe = (profile: SimProfile): string =>
  [
    `seed=${profile.seed}`,
    `latency=${formatLatency(profile.latency)}`,
    `rate-limit=${Number.isFinite(profile.rate) ? `${+profile.rate.toFixed(3)}/s,burst=${profile.burst}` : "off"}`,
    `retry-after=${profile.retryAfter ? "on" : "off"}`,
    `error-rate=${profile.errorRate}`,
    `bandwidth=${formatBandwidth(profile.bandwidth)}`,
    `connections=${Number.isFinite(profile.connections) ? profile.connections : "unlimited"}`,
    `artists=${profile.shape.artists}`
  ].join(" ")
