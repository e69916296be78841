import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { defaultSettings, settingSpecs } from "../src/domain/Settings.js"
import { applyOverride, parseSettings, readSettings, renderSettings } from "../src/domain/SettingsFile.js"

/** An OrpheusDL settings.json as `settings refresh` writes it, with a module's account in it. */
const orpheus = () => ({
  global: {
    general: { download_path: "./downloads/", download_quality: "hifi", search_limit: 10, source_subdirectories: true },
    artist_downloading: {
      return_credited_albums: false,
      separate_tracks_skip_downloaded: true,
      filter_collectors_editions: true,
      filter_live_recordings: true,
      filter_other_artists: true
    },
    formatting: {
      album_format: "{artist}/{name}{explicit}",
      playlist_format: "{name}{explicit}",
      track_filename_format: "{track_number}. {name}",
      single_full_path_format: "{name}",
      enable_zfill: false,
      force_album_format: true
    },
    codecs: { proprietary_codecs: false, spatial_codecs: true },
    module_defaults: { lyrics: "default", covers: "default", credits: "default" },
    lyrics: { embed_lyrics: true, embed_synced_lyrics: true, save_synced_lyrics: false },
    covers: {
      embed_cover: false,
      main_compression: "high",
      main_resolution: 600,
      save_external: true,
      external_format: "png",
      external_compression: "low",
      external_resolution: 3000,
      save_animated_cover: true
    },
    playlist: { save_m3u: true, paths_m3u: "absolute", extended_m3u: true },
    advanced: { advanced_login_system: false, codec_conversions: { alac: "flac" }, debug_mode: false }
  },
  extensions: {},
  modules: { qobuz: { username: "someone@example.com", password: "hunter2-secret" } }
})

const read = (document: unknown) => readSettings(document)
const problem = (document: unknown) => Either.getLeft(read(document)).pipe((left) => left._tag === "Some" ? left.value : "")

describe("settings: OrpheusDL's names and meanings", () => {
  it("reads every setting lyra uses from an OrpheusDL settings.json", () => {
    const result = read(orpheus())
    assert.isTrue(Either.isRight(result))
    const { applied, settings } = Either.getOrThrow(result)
    assert.deepStrictEqual(settings, {
      downloadPath: "./downloads/",
      downloadQuality: "hifi",
      sourceSubdirectories: true,
      returnCreditedAlbums: false,
      separateTracksSkipDownloaded: true,
      filterCollectorsEditions: true,
      filterLiveRecordings: true,
      filterOtherArtists: true,
      albumFormat: "{artist}/{name}{explicit}",
      playlistFormat: "{name}{explicit}",
      trackFilenameFormat: "{track_number}. {name}",
      singleFullPathFormat: "{name}",
      enableZfill: false,
      forceAlbumFormat: true,
      embedCover: false,
      mainResolution: 600,
      saveExternal: true,
      externalResolution: 3000,
      embedLyrics: true,
      embedSyncedLyrics: true,
      saveSyncedLyrics: false
    })
    assert.strictEqual(applied.length, settingSpecs.length)
  })

  it("leaves out OrpheusDL settings it does not use, and never reads module accounts", () => {
    const { ignored } = Either.getOrThrow(read(orpheus()))
    assert.includeMembers([...ignored], ["general.search_limit", "codecs.spatial_codecs", "playlist.save_m3u", "modules"])
    assert.notInclude(JSON.stringify(ignored), "hunter2")
  })

  it("reads lyra's own form with the providers' accounts beside the sections, never reading them", () => {
    const document = {
      formatting: { enable_zfill: false },
      modules: { subsonic: { url: "https://music.example.com", username: "me", password: "hunter2" } }
    }
    const { ignored, settings } = Either.getOrThrow(read(document))
    assert.strictEqual(settings.enableZfill, false)
    assert.include([...ignored], "modules")
    assert.notInclude(JSON.stringify(ignored), "hunter2")
  })

  it("names an unknown key, with the nearest known one", () => {
    const typo = orpheus()
    ;(typo.global.formatting as Record<string, unknown>)["album_fromat"] = "{name}"
    assert.strictEqual(problem(typo), `unknown setting "global.formatting.album_fromat" (did you mean album_format?)`)
    assert.match(problem({ global: { formating: {} } }), /unknown setting section "global.formating" \(did you mean formatting\?\)/)
    assert.match(problem({ global: {}, sttings: {} }), /unknown setting "sttings"/)
  })

  it("names an invalid value and says what it expects", () => {
    const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
      [{ general: { download_quality: "ultra" } }, /^general\.download_quality: expected one of hifi, lossless, high, medium, low, minimum, got "ultra"$/],
      [{ formatting: { enable_zfill: "yes" } }, /^formatting\.enable_zfill: expected true or false, got "yes"$/],
      [{ covers: { main_resolution: -5 } }, /^covers\.main_resolution: expected a whole number of pixels/],
      [{ formatting: { album_format: "{nmae}" } }, /^formatting\.album_format: unknown variable \{nmae\}/],
      [{ formatting: { track_filename_format: "{track_number. {name}" } }, /^formatting\.track_filename_format: /],
      [{ general: { download_path: "" } }, /^general\.download_path: expected a non-empty string/]
    ]
    for (const [document, expected] of cases) assert.match(problem(document), expected)
  })

  it("never echoes a secret in an error", () => {
    const bad = orpheus()
    ;(bad.global.general as Record<string, unknown>)["download_quality"] = 3
    assert.notInclude(problem(bad), "hunter2")
    assert.match(problem([]), /expected a JSON object/)
    assert.match(Either.getLeft(parseSettings("{ nope")).pipe((l) => l._tag === "Some" ? l.value : ""), /not valid JSON/)
  })

  it("writes lyra's own file with the same sections and names, which reads back the same", () => {
    const { settings } = Either.getOrThrow(read(orpheus()))
    const text = renderSettings(settings)
    const parsed = JSON.parse(text)
    assert.strictEqual(parsed.formatting.album_format, "{artist}/{name}{explicit}")
    assert.strictEqual(parsed.covers.save_external, true)
    assert.deepStrictEqual(Either.getOrThrow(parseSettings(text)).settings, settings)
    assert.deepStrictEqual(Either.getOrThrow(parseSettings(renderSettings(defaultSettings))).settings, defaultSettings)
  })

  it("applies a flag's key=value over the file, by name or section.name", () => {
    const one = Either.getOrThrow(applyOverride(defaultSettings, "album_format={artist}/{name}"))
    assert.strictEqual(one.albumFormat, "{artist}/{name}")
    const two = Either.getOrThrow(applyOverride(one, "covers.save_external=true"))
    assert.isTrue(two.saveExternal)
    assert.strictEqual(Either.getOrThrow(applyOverride(two, "main_resolution=800")).mainResolution, 800)
    assert.match(Either.getLeft(applyOverride(defaultSettings, "zfill=true")).pipe((l) => l._tag === "Some" ? l.value : ""), /unknown setting "zfill"/)
    assert.match(
      Either.getLeft(applyOverride(defaultSettings, "enable_zfill=maybe")).pipe((l) => l._tag === "Some" ? l.value : ""),
      /enable_zfill: expected true or false/
    )
  })
})
