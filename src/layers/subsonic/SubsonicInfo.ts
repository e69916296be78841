import { UsageError } from "../../domain/UsageError.js"
import { InvalidError } from "../../services/MusicApiError.js"
import type { Provider, ProviderCapabilities } from "../../services/Provider.js"
import { urlForms } from "./SubsonicUrl.js"

/**
 * What lyra knows of the `subsonic` provider without a server: its name, what
 * it can do, and the stand-in registered while it is not set up. Kept apart
 * from the provider itself, whose response schemas cost start-up time that a
 * run without a Subsonic server should not pay.
 */

export const provider = "subsonic"

export const capabilities: ProviderCapabilities = {
  kinds: ["track", "album", "artist", "playlist"],
  search: true,
  batchTracks: false,
  cover: true,
  lyrics: true,
  urlForms
}

export const description =
  "OpenSubsonic / Subsonic servers (Navidrome, gonic, Airsonic, LMS...): the original files, or MP3 at a lossy tier"

/** A provider that is there, but says what to set up whenever it is used. */
export const unconfigured = (problem: string): Provider => {
  const fail = new InvalidError({ provider, reason: problem.replace(/^subsonic: /, "configuration: ") })
  return {
    name: provider,
    description,
    capabilities,
    localSource: true,
    parseUrl: () => undefined,
    ready: new UsageError({ message: problem }),
    track: () => fail,
    album: () => fail,
    artist: () => fail,
    playlist: () => fail,
    search: () => fail,
    source: () => fail
  }
}
