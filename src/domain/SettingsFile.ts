import * as Either from "effect/Either"
import { parseTemplate } from "./PathTemplate.js"
import type { SettingKind, Settings, SettingSpec } from "./Settings.js"
import { defaultSettings, ignoredSettings, qualities, settingSpecs } from "./Settings.js"

/** What reading a settings file gave: the settings, and what it held that lyra leaves alone. */
export interface SettingsRead {
  readonly settings: Settings
  /** `section.key` of every setting taken from the file. */
  readonly applied: ReadonlyArray<string>
  /** `section.key` (or `section`) of OrpheusDL settings lyra does not use. */
  readonly ignored: ReadonlyArray<string>
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const show = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

const suggestion = (name: string, candidates: ReadonlyArray<string>): string => {
  const best = candidates
    .map((candidate) => ({ candidate, d: distance(name.toLowerCase(), candidate) }))
    .sort((x, y) => x.d - y.d)[0]
  return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best.candidate}?)` : ""
}

const sections = [...new Set([...settingSpecs.map((spec) => spec.section), ...Object.keys(ignoredSettings)])]

/** Checks one value against its kind; answers the value to store, or what is wrong with it. */
export const checkValue = (kind: SettingKind, value: unknown): Either.Either<Settings[keyof Settings], string> => {
  switch (kind._tag) {
    case "Boolean":
      return typeof value === "boolean" ? Either.right(value) : Either.left(`expected true or false, got ${show(value)}`)
    case "Text":
      return typeof value === "string" && value.trim() !== ""
        ? Either.right(value)
        : Either.left(`expected a non-empty string, got ${show(value)}`)
    case "Quality":
      return typeof value === "string" && qualities.includes(value)
        ? Either.right(value as Settings["downloadQuality"])
        : Either.left(`expected one of ${qualities.join(", ")}, got ${show(value)}`)
    case "Pixels":
      return typeof value === "number" && Number.isInteger(value) && value >= 16 && value <= 10_000
        ? Either.right(value)
        : Either.left(`expected a whole number of pixels from 16 to 10000, got ${show(value)}`)
    case "Template": {
      if (typeof value !== "string") return Either.left(`expected a format string, got ${show(value)}`)
      const parsed = parseTemplate(value, kind.variables)
      return typeof parsed === "string" ? Either.left(parsed) : Either.right(value)
    }
  }
}

const specFor = (section: string, key: string): SettingSpec | undefined =>
  settingSpecs.find((spec) => spec.section === section && spec.key === key)

const isIgnored = (section: string, key: string): boolean => {
  const ignored = ignoredSettings[section]
  return ignored !== undefined && (ignored.includes("*") || ignored.includes(key))
}

/**
 * Reads settings from a parsed JSON document: either OrpheusDL's own file
 * (`{"global": {...}, "modules": {...}}`) or lyra's (the `global` sections at
 * the top). Settings lyra uses are checked; OrpheusDL settings it does not use
 * are ignored; anything else is an error that names the key. Module settings
 * (accounts, passwords) are skipped unread, so they never appear anywhere.
 */
export const readSettings = (document: unknown, base: Settings = defaultSettings): Either.Either<SettingsRead, string> => {
  if (!isRecord(document)) return Either.left(`expected a JSON object of settings, got ${show(document)}`)
  const ignored: Array<string> = []
  let root: Record<string, unknown> = document
  let prefix = ""
  if ("global" in document) {
    for (const key of Object.keys(document)) {
      if (key === "extensions" || key === "modules") ignored.push(key)
      else if (key !== "global") return Either.left(`unknown setting "${key}"${suggestion(key, ["global"])}`)
    }
    if (!isRecord(document.global)) return Either.left(`global: expected an object of sections`)
    root = document.global
    prefix = "global."
  }
  const settings: Record<string, unknown> = { ...base }
  const applied: Array<string> = []
  for (const [section, entries] of Object.entries(root)) {
    // lyra's own form keeps the providers' accounts beside the sections, as OrpheusDL does beside `global`.
    if (prefix === "" && (section === "modules" || section === "extensions")) {
      ignored.push(section)
      continue
    }
    if (!sections.includes(section)) {
      return Either.left(`unknown setting section "${prefix}${section}"${suggestion(section, sections)}`)
    }
    if (!isRecord(entries)) return Either.left(`${prefix}${section}: expected an object of settings`)
    for (const [key, value] of Object.entries(entries)) {
      const name = `${prefix}${section}.${key}`
      const spec = specFor(section, key)
      if (spec === undefined) {
        if (isIgnored(section, key)) {
          ignored.push(`${section}.${key}`)
          continue
        }
        const known = settingSpecs.filter((s) => s.section === section).map((s) => s.key)
        return Either.left(`unknown setting "${name}"${suggestion(key, known)}`)
      }
      const checked = checkValue(spec.kind, value)
      if (Either.isLeft(checked)) return Either.left(`${name}: ${checked.left}`)
      settings[spec.field] = checked.right
      applied.push(`${section}.${key}`)
    }
  }
  return Either.right({ settings: settings as unknown as Settings, applied, ignored })
}

/** Reads settings from JSON text, as `readSettings`. */
export const parseSettings = (text: string, base: Settings = defaultSettings): Either.Either<SettingsRead, string> => {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return Either.left(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  return readSettings(document, base)
}

/**
 * One `key=value` override from the command line: `album_format={artist}/{name}`
 * or `formatting.album_format=...`. Booleans are `true`/`false`, pixels a number.
 */
export const applyOverride = (settings: Settings, entry: string): Either.Either<Settings, string> => {
  const equals = entry.indexOf("=")
  if (equals <= 0) return Either.left(`--set ${entry}: expected key=value, e.g. --set album_format={artist}/{name}`)
  const name = entry.slice(0, equals).trim()
  const text = entry.slice(equals + 1)
  const dot = name.lastIndexOf(".")
  const key = dot === -1 ? name : name.slice(dot + 1)
  const section = dot === -1 ? undefined : name.slice(0, dot).replace(/^global\./, "")
  const spec = settingSpecs.find((s) => s.key === key && (section === undefined || s.section === section))
  if (spec === undefined) {
    return Either.left(`--set: unknown setting "${name}"${suggestion(key, settingSpecs.map((s) => s.key))}`)
  }
  const value: unknown = spec.kind._tag === "Boolean"
    ? text === "true" ? true : text === "false" ? false : text
    : spec.kind._tag === "Pixels"
    ? /^\d+$/.test(text) ? Number(text) : text
    : text
  const checked = checkValue(spec.kind, value)
  if (Either.isLeft(checked)) return Either.left(`--set ${spec.key}: ${checked.left}`)
  return Either.right({ ...settings, [spec.field]: checked.right })
}

/** lyra's settings file: OrpheusDL's sections and names, only the settings lyra uses. */
export const renderSettings = (settings: Settings): string => {
  const out: Record<string, Record<string, unknown>> = {}
  for (const spec of settingSpecs) {
    out[spec.section] = { ...out[spec.section], [spec.key]: settings[spec.field] }
  }
  return `${JSON.stringify(out, null, 2)}\n`
}
