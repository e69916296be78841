import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as NodePath from "node:path"
import { parseSettings, renderSettings } from "../domain/SettingsFile.js"
import { UsageError } from "../domain/UsageError.js"
import { loadSettings, settingsLocation } from "./SettingsOptions.js"

const noLocation = new UsageError({
  message: "no place for the settings file: set LYRA_CONFIG to a path (or HOME, or XDG_CONFIG_HOME)"
})

/** `lyra config import <settings.json>`: takes an OrpheusDL settings file as lyra's settings. */
const importCommand = Command.make(
  "import",
  { file: Args.file({ name: "settings.json", exists: "yes" }) },
  Effect.fn("lyra config import")(function*({ file }) {
    const fs = yield* FileSystem.FileSystem
    const location = yield* settingsLocation
    if (Option.isNone(location)) return yield* noLocation
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((error) => new UsageError({ message: `cannot read ${file}: ${error.message}` }))
    )
    const read = parseSettings(text)
    if (Either.isLeft(read)) return yield* new UsageError({ message: `${file}: ${read.left}` })
    const target = location.value.path
    const write = Effect.gen(function*() {
      yield* fs.makeDirectory(NodePath.dirname(target), { recursive: true })
      yield* fs.writeFileString(`${target}.part`, renderSettings(read.right.settings))
      yield* fs.rename(`${target}.part`, target)
    })
    yield* write.pipe(
      Effect.mapError((error) => new UsageError({ message: `cannot write ${target}: ${error.message}` }))
    )
    yield* Console.log(`imported ${read.right.applied.length} settings from ${file} into ${target}`)
    const ignored = read.right.ignored.filter((key) => key !== "modules" && key !== "extensions")
    if (ignored.length > 0) yield* Console.log(`not used by lyra, left out: ${ignored.join(", ")}`)
    if (read.right.ignored.includes("modules")) {
      yield* Console.log("module settings (accounts and passwords) were not read and are not copied")
    }
  })
).pipe(Command.withDescription("Import an OrpheusDL settings.json as lyra's settings (same names and meanings)."))

/** `lyra config show`: the settings in effect, as lyra's settings file holds them. */
const showCommand = Command.make(
  "show",
  {},
  Effect.fn("lyra config show")(function*() {
    const read = yield* loadSettings
    yield* Console.log(renderSettings(read.settings).trimEnd())
  })
).pipe(Command.withDescription("Print the settings in effect (the settings file over the defaults) as JSON."))

/** `lyra config path`: where the settings file is read from. */
const pathCommand = Command.make(
  "path",
  {},
  Effect.fn("lyra config path")(function*() {
    const location = yield* settingsLocation
    if (Option.isNone(location)) return yield* noLocation
    yield* Console.log(location.value.path)
  })
).pipe(Command.withDescription("Print where the settings file is (LYRA_CONFIG, or lyra/settings.json in the config folder)."))

/** `lyra config`: lyra's settings, with OrpheusDL's names. */
export const configCommand = Command.make("config").pipe(
  Command.withDescription("Settings: OrpheusDL's names and meanings; flags override them."),
  Command.withSubcommands([importCommand, showCommand, pathCommand])
)
