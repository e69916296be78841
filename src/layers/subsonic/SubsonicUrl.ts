import type { MediaKind } from "../../domain/MediaRef.js"
import { MediaRef } from "../../domain/MediaRef.js"

/** Navidrome's web pages, by the name in their route. */
const kinds: Readonly<Record<string, MediaKind>> = {
  album: "album",
  artist: "artist",
  playlist: "playlist",
  song: "track",
  track: "track"
}

/** The URL forms `parseWebUrl` accepts, for help texts. */
export const urlForms = ["<server>/app/#/album/<id>/show (also artist, playlist, song)"]

const route = /^#\/(album|artist|playlist|song|track)\/([^/?#]+)(?:\/show)?\/?(?:\?.*)?$/i

/**
 * Reads a Navidrome web URL of the configured server, e.g.
 * `https://music.example.com/app/#/album/<id>/show`, as a reference. Any other
 * server, or no configured server, is not ours: undefined.
 */
export const parseWebUrl = (baseUrl: string | undefined) => (input: string): MediaRef | undefined => {
  if (baseUrl === undefined) return undefined
  let url: URL
  let base: URL
  try {
    url = new URL(input.trim())
    base = new URL(baseUrl)
  } catch {
    return undefined
  }
  if (url.protocol !== base.protocol || url.host.toLowerCase() !== base.host.toLowerCase()) return undefined
  const basePath = base.pathname.replace(/\/+$/, "")
  const page = url.pathname.replace(/\/+$/, "")
  if (page !== `${basePath}/app` && page !== basePath) return undefined
  const match = route.exec(url.hash)
  if (match === null) return undefined
  const kind = kinds[(match[1] ?? "").toLowerCase()]
  const id = decodeURIComponent(match[2] ?? "")
  return kind === undefined || id.trim() === "" ? undefined : new MediaRef({ provider: "subsonic", kind, id })
}
