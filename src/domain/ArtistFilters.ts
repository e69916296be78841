import type { Album } from "./Album.js"
import type { Artist } from "./Artist.js"
import type { Settings } from "./Settings.js"

// OrpheusDL's keywords, matched as whole words so that "Oliver" is not "live".
const collectorsEdition =
  /\b(?:collector'?s?|deluxe|expanded|bonus|special|anniversary|remaster(?:ed)?|reissue|limited)\b/i
const liveRecording = /\b(?:live|concerts?|performances?|stage|tour|acoustic|unplugged|mtv|bbc|radio|sessions?)\b/i

/**
 * Why an album of an artist's discography is left out under the artist
 * settings, or undefined to download it.
 */
export const albumSkipReason = (settings: Settings, artist: Artist, album: Album): string | undefined => {
  if (!settings.returnCreditedAlbums && album.artistId !== undefined && album.artistId !== artist.id) {
    return `credited only (return_credited_albums is off)`
  }
  if (settings.filterOtherArtists && album.artist.trim().toLowerCase() !== artist.name.trim().toLowerCase()) {
    return `by ${album.artist}, not ${artist.name} (filter_other_artists)`
  }
  if (settings.filterCollectorsEditions && collectorsEdition.test(album.title)) {
    return `a collector's edition (filter_collectors_editions)`
  }
  if (settings.filterLiveRecordings && liveRecording.test(album.title)) {
    return `a live recording (filter_live_recordings)`
  }
  return undefined
}
