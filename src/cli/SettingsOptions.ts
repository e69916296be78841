import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as NodePath from "node:path"
import { Quality } from "../domain/Quality.js"
import type { Settings } from "../domain/Settings.js"
import { defaultSettings, settingSpecs } from "../domain/Settings.js"
import type { SettingsRead } from "../domain/SettingsFile.js"
import { applyOverride, parseSettings } from "../domain/SettingsFile.js"
import { UsageError } from "../domain/UsageError.js"

/** Where lyra's settings file is, and whether the user named it (then it must exist). */
export interface SettingsLocation {
  readonly path: string
  readonly explicit: boolean
}

const optionalConfig = (name: string) => Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(Option.none))

/**
 * `LYRA_CONFIG`, else `settings.json` in lyra's folder under
 * `XDG_CONFIG_HOME` (or `~/.config`, or `%APPDATA%`); none without a home.
 */
export const settingsLocation: Effect.Effect<Option.Option<SettingsLocation>> = Effect.gen(function*() {
  const named = yield* optionalConfig("LYRA_CONFIG")
  if (Option.isSome(named)) return Option.some({ path: named.value, explicit: true })
  const xdg = yield* optionalConfig("XDG_CONFIG_HOME")
  const home = yield* optionalConfig("HOME")
  const appData = yield* optionalConfig("APPDATA")
  const folder = Option.isSome(xdg)
    ? Option.some(xdg.value)
    : Option.isSome(home)
    ? Option.some(NodePath.join(home.value, ".config"))
    : appData
  return Option.map(folder, (base) => ({ path: NodePath.join(base, "lyra", "settings.json"), explicit: false }))
})

/** The settings in lyra's settings file, or the defaults when there is none; a bad file is a UsageError naming the key. */
export const loadSettings: Effect.Effect<SettingsRead & { readonly location: Option.Option<SettingsLocation> }, UsageError, FileSystem.FileSystem> =
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const location = yield* settingsLocation
    const none = { settings: defaultSettings, applied: [], ignored: [], location }
    if (Option.isNone(location)) return none
    const { explicit, path } = location.value
    const exists = yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))
    if (!exists) {
      if (explicit) return yield* new UsageError({ message: `LYRA_CONFIG names ${path}, which does not exist` })
      return none
    }
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new UsageError({ message: `cannot read settings ${path}: ${error.message}` }))
    )
    const read = parseSettings(text)
    if (Either.isLeft(read)) return yield* new UsageError({ message: `settings ${path}: ${read.left}` })
    return { ...read.right, location }
  })

const invalid = (error: UsageError) => ValidationError.invalidValue(HelpDoc.p(error.message))

const fromFile = <A>(pick: (settings: Settings) => A) =>
  Effect.map(loadSettings, (read) => pick(read.settings)).pipe(Effect.mapError(invalid))

/** `--out`, else the settings file's `download_path`, else `./library`. */
export const outOption = Options.text("out").pipe(
  Options.withAlias("o"),
  Options.optional,
  Options.mapEffect(Option.match({ onNone: () => fromFile((s) => s.downloadPath), onSome: Effect.succeed })),
  Options.withDescription(
    "The library folder to write into (created if missing); default: download_path in the settings, or ./library."
  )
)

/** `--quality`, else the settings file's `download_quality`, else lossless. */
export const qualityOption = Options.choice("quality", Quality.literals).pipe(
  Options.optional,
  Options.mapEffect(Option.match({ onNone: () => fromFile((s) => s.downloadQuality), onSome: Effect.succeed })),
  Options.withDescription(
    "Quality tier (OrpheusDL's), mapped by each provider to its formats; default: download_quality, or lossless."
  )
)

const flagged: ReadonlyArray<string> = ["download_path", "download_quality"]

/** The library settings: the settings file, then each `--set key=value`. */
export const librarySettingsOption = Options.keyValueMap("set").pipe(
  Options.optional,
  Options.mapEffect((entries) =>
    Effect.gen(function*() {
      let settings = (yield* loadSettings).settings
      for (const [key, value] of Option.match(entries, { onNone: () => [], onSome: (map) => [...HashMap.toEntries(map)] })) {
        const name = key.slice(key.lastIndexOf(".") + 1)
        if (flagged.includes(name)) {
          return yield* new UsageError({
            message: `--set ${name}: use ${name === "download_path" ? "--out" : "--quality"} instead`
          })
        }
        const next = applyOverride(settings, `${key}=${value}`)
        if (Either.isLeft(next)) return yield* new UsageError({ message: next.left })
        settings = next.right
      }
      return settings
    }).pipe(Effect.mapError(invalid))
  ),
  Options.withDescription(
    `Override one setting of the settings file by its OrpheusDL name, e.g. --set album_format="{artist}/{name}" `
      + `--set save_external=true (${settingSpecs.filter((s) => !flagged.includes(s.key)).length} settings; `
      + "see lyra config show)."
  )
)

/** `--cpu N`: files post-processed (tagged) at once. */
export const cpuOption = Options.integer("cpu").pipe(
  Options.filterMap((n) => n >= 1 ? Option.some(n) : Option.none(), "--cpu must be a whole number of at least 1"),
  Options.optional,
  Options.withDescription("Threads that tag files, off the downloads (default: the number of cores).")
)

/** A stored job's library settings, over the defaults; the defaults if there are none. */
export const storedLibrarySettings = (stored: unknown): Settings => {
  const library = (stored as { readonly job?: { readonly library?: unknown } } | undefined)?.job?.library
  if (typeof library !== "object" || library === null) return defaultSettings
  const known = Object.fromEntries(
    settingSpecs.flatMap((spec) => {
      const value = (library as Record<string, unknown>)[spec.field]
      return typeof value === typeof defaultSettings[spec.field] ? [[spec.field, value]] : []
    })
  )
  return { ...defaultSettings, ...known }
}
