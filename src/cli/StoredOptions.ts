import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Quality } from "../domain/Quality.js"
import type { JobOptions } from "./JobOptions.js"
import type { OutputOptions } from "./OutputOptions.js"
import { storedLibrarySettings } from "./SettingsOptions.js"

/** The options a job runs with, as stored beside it so that `resume` runs it the same way. */
const Stored = Schema.Struct({
  albums: Schema.Int,
  tracks: Schema.Int,
  tracksPerAlbum: Schema.NullOr(Schema.Int),
  api: Schema.Int,
  rate: Schema.NullOr(Schema.Number),
  burst: Schema.NullOr(Schema.Int),
  quota: Schema.NullOr(Schema.Struct({ limit: Schema.Int, windowMillis: Schema.Number })),
  onQuota: Schema.Literal("wait", "stop"),
  maxBandwidth: Schema.NullOr(Schema.Number),
  retries: Schema.Int,
  quality: Quality,
  sim: Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
  force: Schema.Boolean,
  metadataTtl: Schema.NullOr(Schema.Number)
})
type Stored = typeof Stored.Type

export const toStored = (options: JobOptions): Stored => ({
  albums: options.albums,
  tracks: options.tracks,
  tracksPerAlbum: Option.getOrNull(options.tracksPerAlbum),
  api: options.api,
  rate: Option.getOrNull(options.rate),
  burst: Option.getOrNull(options.burst),
  quota: Option.getOrNull(options.quota),
  onQuota: options.onQuota,
  maxBandwidth: Option.getOrNull(options.maxBandwidth),
  retries: options.retries,
  quality: options.quality,
  sim: Option.match(options.sim, { onNone: () => [], onSome: (map) => [...map] }),
  force: options.force,
  metadataTtl: Option.getOrNull(options.metadataTtl)
})

/** A stored job's options with this invocation's library and output options; undefined if they do not read. */
export const fromStored = (
  settings: unknown,
  here: OutputOptions & { readonly out: string }
): JobOptions | undefined => {
  const decoded = Schema.decodeUnknownOption(Stored)((settings as { options?: unknown } | undefined)?.options)
  if (Option.isNone(decoded)) return undefined
  const stored = decoded.value
  return {
    ...here,
    albums: stored.albums,
    tracks: stored.tracks,
    tracksPerAlbum: Option.fromNullable(stored.tracksPerAlbum),
    api: stored.api,
    rate: Option.fromNullable(stored.rate),
    burst: Option.fromNullable(stored.burst),
    quota: Option.fromNullable(stored.quota),
    onQuota: stored.onQuota,
    maxBandwidth: Option.fromNullable(stored.maxBandwidth),
    retries: stored.retries,
    quality: stored.quality,
    sim: stored.sim.length === 0 ? Option.none() : Option.some(HashMap.fromIterable(stored.sim)),
    force: stored.force,
    noState: false,
    library: storedLibrarySettings(settings),
    cpu: Option.none(),
    metadataTtl: Option.fromNullable(stored.metadataTtl)
  }
}
