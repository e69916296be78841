import * as NodePath from "node:path"
import * as Option from "effect/Option"

/** Most file systems (ext4, APFS, NTFS in UTF-16 units) cap one name at 255 bytes. */
const MAX_NAME_BYTES = 255
/** Extensions are short; a cap keeps room for the stem whatever a provider sends. */
const MAX_EXTENSION_BYTES = 16

// Lone surrogates cannot be encoded as UTF-8; Node would write U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
// Line breaks and tabs read as spaces; every other control character is dropped.
const CONTROL_WHITESPACE = /[\t\n\v\f\r]/g
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g
// Direction marks and embeddings can make a name display as something it is not.
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g
const FORBIDDEN = /[/\\:*?"<>|]/g
const WHITESPACE_RUN = /\s+/g
const LEADING_SPACES = /^ +/
const TRAILING_DOTS_AND_SPACES = /[. ]+$/
// Windows refuses these device names, even with an extension (`con.txt`).
const RESERVED = /^(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3]) *(?:\..*)?$/i

// Made on first use: the first Segmenter loads ICU's break rules, about 20 ms of every start-up.
let graphemes: Intl.Segmenter | undefined

/** UTF-8 length of a string without lone surrogates. */
const utf8Length = (text: string): number => {
  let bytes = 0
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4
  }
  return bytes
}

/** Cuts by code point, so a surrogate pair is never split. */
const fitCodePoints = (text: string, maxBytes: number): string => {
  let out = ""
  let bytes = 0
  for (const char of text) {
    const size = utf8Length(char)
    if (bytes + size > maxBytes) break
    out += char
    bytes += size
  }
  return out
}

/** Cuts by grapheme, so no combining mark or emoji sequence is left dangling. */
const fit = (text: string, maxBytes: number): string => {
  if (utf8Length(text) <= maxBytes) return text
  let out = ""
  let bytes = 0
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })
  for (const { segment } of graphemes.segment(text)) {
    const size = utf8Length(segment)
    if (bytes + size > maxBytes) {
      // A single cluster larger than the budget (e.g. stacked marks) still yields something.
      return out === "" ? fitCodePoints(segment, maxBytes) : out
    }
    out += segment
    bytes += size
  }
  return out
}

const clean = (raw: string): string =>
  raw
    .replace(LONE_SURROGATE, "")
    .replace(CONTROL_WHITESPACE, " ")
    .replace(CONTROL, "")
    .replace(BIDI, "")
    .replace(FORBIDDEN, "_")
    .replace(WHITESPACE_RUN, " ")
    // Last, so that dropping a character between a letter and its mark still composes them.
    .normalize("NFC")

const trimEnds = (text: string): string => text.replace(LEADING_SPACES, "").replace(TRAILING_DOTS_AND_SPACES, "")

const finish = (text: string): string => {
  const trimmed = trimEnds(text)
  if (trimmed === "") return "_"
  // No hidden files; this also rules out `.` and `..`.
  const visible = trimmed.startsWith(".") ? `_${trimmed.slice(1)}` : trimmed
  return RESERVED.test(visible) ? `_${visible}` : visible
}

const sanitizeWithin = (raw: string, maxBytes: number): string => {
  const once = finish(fit(clean(raw), maxBytes))
  // Only the reserved-name prefix can overshoot; it starts with `_`, so one more cut settles it.
  return utf8Length(once) <= maxBytes ? once : trimEnds(fit(once, maxBytes))
}

/** Makes one path component safe on every common file system, and still readable. */
export const sanitizeSegment = (raw: string): string => sanitizeWithin(raw, MAX_NAME_BYTES)

const sanitizeExtension = (raw: string): string =>
  fit(clean(raw).toLowerCase().replace(/ /g, ""), MAX_EXTENSION_BYTES).replace(/^\.+|\.+$/g, "")

/**
 * A relative POSIX path from display names: each segment becomes one sanitized
 * component, the last is the file stem, and the stem is shortened so the
 * extension always survives.
 */
export const planPath = (segments: ReadonlyArray<string>, extension: string): string => {
  const ext = sanitizeExtension(extension)
  const suffix = ext === "" ? "" : `.${ext}`
  const folders = segments.slice(0, -1).map(sanitizeSegment)
  const stem = sanitizeWithin(segments.at(-1) ?? "", MAX_NAME_BYTES - utf8Length(suffix))
  return [...folders, `${stem}${suffix}`].join("/")
}

/**
 * Normalizes a relative POSIX path a store was given, or refuses it: absolute
 * paths, drive letters, backslashes, NUL, anything that climbs out with `..`,
 * and paths that name a folder rather than a file.
 */
export const normalizeRelative = (path: string): Option.Option<string> => {
  if (path === "" || path.includes("\0") || path.includes("\\")) return Option.none()
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return Option.none()
  const normal = NodePath.posix.normalize(path)
  if (normal === "." || normal === ".." || normal.startsWith("../") || normal.endsWith("/")) {
    return Option.none()
  }
  return Option.some(normal)
}

/** Whether `absolutePath` lies strictly inside `root` (the root itself is not inside). */
export const isInside = (root: string, absolutePath: string): boolean => {
  const relative = NodePath.relative(NodePath.resolve(root), NodePath.resolve(absolutePath))
  return relative !== "" &&
    relative !== ".." &&
    !relative.startsWith(`..${NodePath.sep}`) &&
    !NodePath.isAbsolute(relative)
}

/** Bytes a planned stem may use, so that any extension (a dot and at most 16 bytes) still fits in one name. */
export const STEM_BYTES = MAX_NAME_BYTES - MAX_EXTENSION_BYTES - 1

/**
 * Folders and a file stem, each sanitized, the stem short enough for any
 * extension: what `planPath` turns into the same path whatever the extension.
 */
export const planSegments = (segments: ReadonlyArray<string>): ReadonlyArray<string> => [
  ...segments.slice(0, -1).map(sanitizeSegment),
  sanitizeWithin(segments.at(-1) ?? "", STEM_BYTES)
]

/** A planned stem with ` (n)` after it, cut first so that the number always survives. */
export const numberedStem = (stem: string, n: number): string => {
  const marker = ` (${n})`
  return `${sanitizeWithin(stem, STEM_BYTES - utf8Length(marker))}${marker}`
}

/**
 * The key two planned paths collide on: case-insensitive file systems (macOS,
 * Windows) hold one of `Intro` and `intro`, so they are one name.
 */
export const collisionKey = (planned: ReadonlyArray<string>): string => planned.join("/").toLowerCase()
