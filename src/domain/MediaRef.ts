import * as Schema from "effect/Schema"

/** The four kinds of thing a provider can name. */
export const MediaKind = Schema.Literal("track", "album", "artist", "playlist")
export type MediaKind = typeof MediaKind.Type

export const mediaKinds: ReadonlyArray<MediaKind> = MediaKind.literals

/** A reference to one item on one provider, e.g. `sim:artist:1`. */
export class MediaRef extends Schema.Class<MediaRef>("MediaRef")({
  provider: Schema.NonEmptyTrimmedString,
  kind: MediaKind,
  id: Schema.NonEmptyTrimmedString
}) {
  override toString(): string {
    return `${this.provider}:${this.kind}:${this.id}`
  }
}

/** Parses the `<provider>:<kind>:<id>` shorthand; anything else is `undefined`. */
export const parseShorthand = (input: string): MediaRef | string | undefined => {
  const match = /^([a-z][a-z0-9_-]*):([a-z]+):(.+)$/i.exec(input.trim())
  if (match === null) return undefined
  const [, provider, kind, id] = match as unknown as [string, string, string, string]
  if (!(mediaKinds as ReadonlyArray<string>).includes(kind)) {
    return `unknown kind "${kind}" in "${input}" (expected one of ${mediaKinds.join(", ")})`
  }
  return new MediaRef({ provider: provider.toLowerCase(), kind: kind as MediaKind, id })
}
