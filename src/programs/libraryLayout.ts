import type { Track } from "../domain/Track.js"

const number = (n: number) => String(n).padStart(2, "0")

/** `<artist>/<album>/<NN>. <title>`: where an album's track goes. */
export const albumTrackSegments = (
  albumArtist: string,
  albumTitle: string,
  track: Track,
  index: number
): ReadonlyArray<string> => [albumArtist, albumTitle, `${number(track.trackNumber ?? index + 1)}. ${track.title}`]

/** `<artist>/<album>/<NN>. <title>` for a track named on its own, from its own album metadata. */
export const singleTrackSegments = (track: Track): ReadonlyArray<string> =>
  albumTrackSegments(track.albumArtist ?? track.artists[0] ?? "Unknown Artist", track.album, track, 0)

/** `<playlist>/<NN>. <artists> - <title>`: playlists keep their own order. */
export const playlistTrackSegments = (playlistName: string, track: Track, index: number): ReadonlyArray<string> => [
  playlistName,
  `${number(index + 1)}. ${track.artists.join(", ")} - ${track.title}`
]
