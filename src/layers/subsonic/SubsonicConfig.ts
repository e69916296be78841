import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { redactUrl } from "./SubsonicRedact.js"

/** How lyra proves who it is: a password (sent as a salted token) or an OpenSubsonic API key. */
export type SubsonicAuth =
  | { readonly _tag: "Password"; readonly user: string; readonly password: Redacted.Redacted<string> }
  | { readonly _tag: "ApiKey"; readonly apiKey: Redacted.Redacted<string> }

export interface SubsonicSettings {
  /** The server's base URL, without `/rest` or a trailing slash. */
  readonly baseUrl: string
  readonly auth: SubsonicAuth
}

/** Whether the provider can be used; when not, the one-line reason. */
export type SubsonicSetup =
  | { readonly _tag: "Configured"; readonly settings: SubsonicSettings }
  | { readonly _tag: "Unconfigured"; readonly problem: string }

/**
 * The `modules.subsonic` entry of lyra's settings file (where OrpheusDL keeps
 * each module's credentials): `url`, `username` (or `user`), `password`,
 * `api_key` (or `apiKey`).
 */
const FileEntry = Schema.Struct({
  url: Schema.optional(Schema.String),
  user: Schema.optional(Schema.String),
  username: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  apiKey: Schema.optional(Schema.String),
  api_key: Schema.optional(Schema.String)
})
const SettingsFile = Schema.parseJson(Schema.Struct({
  modules: Schema.optional(Schema.Struct({ subsonic: Schema.optional(FileEntry) }))
}))

const optionalText = (name: string) => Config.option(Config.string(name))
const optionalSecret = (name: string) => Config.option(Config.redacted(name))

/**
 * Where lyra's settings file is: `LYRA_CONFIG`, else `lyra/settings.json` under
 * `XDG_CONFIG_HOME`, else under `~/.config`.
 */
export const configPath: Effect.Effect<string | undefined> = Effect.gen(function*() {
  const explicit = yield* optionalText("LYRA_CONFIG")
  if (Option.isSome(explicit) && explicit.value !== "") return explicit.value
  const xdg = yield* optionalText("XDG_CONFIG_HOME")
  if (Option.isSome(xdg) && xdg.value !== "") return `${xdg.value.replace(/\/+$/, "")}/lyra/settings.json`
  const home = yield* optionalText("HOME")
  return Option.isSome(home) ? `${home.value.replace(/\/+$/, "")}/.config/lyra/settings.json` : undefined
}).pipe(Effect.orElseSucceed(() => undefined))

/** Trims what people paste: a trailing slash, `/rest`, or a Navidrome `/app/#/...` page. */
export const normalizeBaseUrl = (url: string): string =>
  url.trim().replace(/#.*$/, "").replace(/\/app(\/.*)?$/, "").replace(/\/+$/, "").replace(/\/rest$/, "")

const howTo = (path: string | undefined) =>
  `set LYRA_SUBSONIC_URL, LYRA_SUBSONIC_USER and LYRA_SUBSONIC_PASSWORD (or LYRA_SUBSONIC_API_KEY)`
  + `${path === undefined ? "" : `, or "modules": {"subsonic": {...}} in ${path}`}`

/** The file's subsonic entry: empty when there is no file, a problem when it cannot be read. */
const readFile = (fs: FileSystem.FileSystem, path: string | undefined) =>
  Effect.gen(function*() {
    const none = { url: undefined, user: undefined, password: undefined, apiKey: undefined }
    if (path === undefined || !(yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false)))) return none
    const text = yield* fs.readFileString(path).pipe(Effect.mapError(() => `cannot read ${path}`))
    const parsed = yield* Schema.decodeUnknown(SettingsFile)(text).pipe(
      Effect.mapError(() =>
        `${path}: "modules": {"subsonic": {"url", "username", "password" or "api_key"}} must be strings in JSON`
      )
    )
    const entry = parsed.modules?.subsonic ?? {}
    return {
      url: entry.url,
      user: entry.username ?? entry.user,
      password: entry.password,
      apiKey: entry.api_key ?? entry.apiKey
    }
  })

/**
 * Reads the settings from the environment (LYRA_SUBSONIC_URL, _USER, _PASSWORD,
 * _API_KEY), each over the settings file's value. Never fails: a missing or
 * broken setting makes the provider unusable, with a reason, and nothing else.
 */
export const load: Effect.Effect<SubsonicSetup, never, FileSystem.FileSystem> = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* configPath
  const env = yield* Effect.all({
    url: optionalText("LYRA_SUBSONIC_URL"),
    user: optionalText("LYRA_SUBSONIC_USER"),
    password: optionalSecret("LYRA_SUBSONIC_PASSWORD"),
    apiKey: optionalSecret("LYRA_SUBSONIC_API_KEY")
  }).pipe(Effect.orElseSucceed(() => ({
    url: Option.none<string>(),
    user: Option.none<string>(),
    password: Option.none<Redacted.Redacted<string>>(),
    apiKey: Option.none<Redacted.Redacted<string>>()
  })))
  const file = yield* Effect.either(readFile(fs, path))
  if (file._tag === "Left") return { _tag: "Unconfigured", problem: `subsonic: ${file.left}` } as const
  const url = Option.getOrUndefined(env.url) ?? file.right.url
  const user = Option.getOrUndefined(env.user) ?? file.right.user
  const password = Option.getOrUndefined(env.password) ??
    (file.right.password === undefined ? undefined : Redacted.make(file.right.password))
  const apiKey = Option.getOrUndefined(env.apiKey) ??
    (file.right.apiKey === undefined ? undefined : Redacted.make(file.right.apiKey))
  return settingsOf({ url, user, password, apiKey }, path)
})

/** Checks what was given and says exactly what is missing. */
export const settingsOf = (
  given: {
    readonly url: string | undefined
    readonly user: string | undefined
    readonly password: Redacted.Redacted<string> | undefined
    readonly apiKey: Redacted.Redacted<string> | undefined
  },
  path?: string
): SubsonicSetup => {
  const unconfigured = (problem: string): SubsonicSetup => ({ _tag: "Unconfigured", problem: `subsonic: ${problem}` })
  if (given.url === undefined && given.user === undefined && given.password === undefined && given.apiKey === undefined) {
    return unconfigured(`not configured: ${howTo(path)}`)
  }
  if (given.url === undefined || given.url.trim() === "") return unconfigured(`no server URL: set LYRA_SUBSONIC_URL`)
  const baseUrl = normalizeBaseUrl(given.url)
  let parsed: URL | undefined
  try {
    parsed = new URL(baseUrl)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    return unconfigured(`LYRA_SUBSONIC_URL must be an http(s) URL, not "${redactUrl(given.url)}"`)
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return unconfigured(`put the user and password in LYRA_SUBSONIC_USER and LYRA_SUBSONIC_PASSWORD, not in the URL`)
  }
  if (given.apiKey !== undefined) {
    return { _tag: "Configured", settings: { baseUrl, auth: { _tag: "ApiKey", apiKey: given.apiKey } } }
  }
  if (given.user === undefined || given.user === "") return unconfigured(`no user: set LYRA_SUBSONIC_USER`)
  if (given.password === undefined) {
    return unconfigured(`no password: set LYRA_SUBSONIC_PASSWORD (or LYRA_SUBSONIC_API_KEY)`)
  }
  return {
    _tag: "Configured",
    settings: { baseUrl, auth: { _tag: "Password", user: given.user, password: given.password } }
  }
}
