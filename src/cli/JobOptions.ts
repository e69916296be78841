import * as Options from "@effect/cli/Options"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import type { JobSettings } from "../domain/JobSettings.js"
import { defaultJobSettings } from "../domain/JobSettings.js"
import type { LimitSettings } from "../domain/LimitSettings.js"
import { defaultBurst } from "../domain/LimitSettings.js"
import { parseBandwidth, parseMillis, parseQuota, parseRate } from "../domain/Units.js"
import { outputOptions } from "./OutputOptions.js"
import { cpuOption, librarySettingsOption, outOption, qualityOption } from "./SettingsOptions.js"

const atLeastOne = (name: string, fallback: number, description: string) =>
  Options.integer(name).pipe(
    Options.filterMap(
      (n) => n >= 1 ? Option.some(n) : Option.none(),
      `--${name} must be a whole number of at least 1`
    ),
    Options.withDefault(fallback),
    Options.withDescription(description)
  )

const parsed = <A>(name: string, parse: (text: string) => A | undefined, expected: string, description: string) =>
  Options.text(name).pipe(
    Options.filterMap((text) => Option.fromNullable(parse(text)), `--${name}: expected ${expected}`),
    Options.optional,
    Options.withDescription(description)
  )

/** The options every command that downloads takes. */
export const jobOptions = {
  out: outOption,
  albums: atLeastOne("albums", defaultJobSettings.albums, "Albums (or playlists) downloading at once."),
  tracks: atLeastOne("tracks", defaultJobSettings.tracks, "Tracks downloading at once, across all albums."),
  tracksPerAlbum: Options.integer("tracks-per-album").pipe(
    Options.filterMap((n) => n >= 1 ? Option.some(n) : Option.none(), "--tracks-per-album must be at least 1"),
    Options.optional,
    Options.withDescription("Tracks downloading at once within one album (default: --tracks).")
  ),
  api: atLeastOne("api", 10, "API calls in flight at once, per provider."),
  rate: parsed(
    "rate",
    parseRate,
    "calls per second, e.g. 20 or 20/s",
    "Pace API calls to at most N per second per provider, after a small burst."
  ),
  burst: Options.integer("burst").pipe(
    Options.filterMap((n) => n >= 1 ? Option.some(n) : Option.none(), "--burst must be at least 1"),
    Options.optional,
    Options.withDescription("Calls allowed at once before --rate pacing starts (default: a tenth of the rate).")
  ),
  quota: parsed(
    "quota",
    parseQuota,
    "calls per window, e.g. 5000/1h",
    "Cap API calls per window per provider, e.g. 5000/1h or 100/1m."
  ),
  onQuota: Options.choice("on-quota", ["wait", "stop"]).pipe(
    Options.withDefault("wait" as const),
    Options.withDescription("When the quota runs out: wait for the next window, or stop with a clear message.")
  ),
  maxBandwidth: parsed(
    "max-bandwidth",
    parseBandwidth,
    "a rate such as 8MB/s, 512KiB/s or 100Mbit/s",
    "Cap the total download bandwidth across all transfers, e.g. 8MB/s."
  ),
  retries: Options.integer("retries").pipe(
    Options.filterMap((n) => n >= 0 ? Option.some(n) : Option.none(), "--retries must be 0 or more"),
    Options.withDefault(5),
    Options.withDescription("Retries per call or transfer on transient errors (exponential backoff with jitter).")
  ),
  quality: qualityOption,
  library: librarySettingsOption,
  cpu: cpuOption,
  sim: Options.keyValueMap("sim").pipe(
    Options.optional,
    Options.withDescription(
      "Simulated provider profile, e.g. --sim latency=20ms..80ms --sim rate-limit=20/s --sim error-rate=0.05 "
        + "--sim bandwidth=4MB/s (also LYRA_SIM_* variables)."
    )
  ),
  force: Options.boolean("force").pipe(
    Options.withDescription("Download again even what the archive says is done and is still on disk.")
  ),
  noState: Options.boolean("no-state").pipe(
    Options.withDescription("Keep no job state on disk (<out>/.lyra/state.db): no resume, no archive, no cache.")
  ),
  metadataTtl: parsed(
    "metadata-ttl",
    (text) => parseMillis(text, "s"),
    "a duration such as 24h, 30m or 0",
    "How long cached metadata answers stay good (default 24h); 0 turns the cache off."
  ),
  ...outputOptions
}

type Parsed<T> = { readonly [K in keyof T]: T[K] extends Options.Options<infer A> ? A : never }
export type JobOptions = Parsed<typeof jobOptions>

export const jobSettingsOf = (options: JobOptions): JobSettings => ({
  albums: options.albums,
  tracks: options.tracks,
  tracksPerAlbum: Option.getOrElse(options.tracksPerAlbum, () => options.tracks),
  quality: options.quality,
  force: options.force,
  library: options.library
})

export const limitSettingsOf = (
  options: Pick<JobOptions, "api" | "rate" | "burst" | "quota" | "onQuota" | "maxBandwidth">
): LimitSettings => ({
  apiConcurrency: options.api,
  rate: Option.match(options.rate, {
    onNone: () => undefined,
    onSome: (perSecond) => ({ perSecond, burst: Option.getOrElse(options.burst, () => defaultBurst(perSecond)) })
  }),
  quota: Option.match(options.quota, {
    onNone: () => undefined,
    onSome: (quota) => ({ limit: quota.limit, window: Duration.millis(quota.windowMillis), onExhausted: options.onQuota })
  }),
  maxBandwidth: Option.getOrUndefined(options.maxBandwidth)
})

/** `--sim` entries as `key=value` strings, in the order given. */
export const simEntriesOf = (options: JobOptions): ReadonlyArray<string> =>
  Option.match(options.sim, {
    onNone: () => [],
    onSome: (map) => [...map].map(([key, value]) => `${key}=${value}`)
  })
