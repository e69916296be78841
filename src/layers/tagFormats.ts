/** The containers lyra tags, by extension, as node-taglib-sharp names their types. */
export const mimeTypes: Readonly<Record<string, string>> = {
  flac: "taglib/flac",
  mp3: "taglib/mp3",
  m4a: "taglib/m4a",
  mp4: "taglib/mp4",
  ogg: "taglib/ogg",
  oga: "taglib/oga",
  opus: "taglib/opus"
}

export const extensionOf = (path: string) => path.slice(path.lastIndexOf(".") + 1).toLowerCase()

/** Why a file cannot be tagged before anything is done to it, or undefined. */
export const untaggable = (path: string): string | undefined =>
  mimeTypes[extensionOf(path)] === undefined ? `lyra does not tag .${extensionOf(path)} files` : undefined
