import { Lyrics } from "../../domain/Artwork.js"
import { hash32, SimRng } from "./SimHash.js"
import * as Words from "./SimWords.js"

/**
 * The simulated service's covers and lyrics, each a function of the seed and
 * an id. A cover is a real baseline JPEG of one grey (its shade drawn from the
 * album), at the size asked for: a solid image costs two bits per 8×8 block,
 * so even a 3000-pixel cover is a few tens of kilobytes.
 */

/** Appends bits most significant first, stuffing a 0x00 after every 0xFF as JPEG scans require. */
class BitWriter {
  private readonly bytes: Array<number> = []
  private current = 0
  private count = 0

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.current = (this.current << 1) | ((value >> i) & 1)
      if (++this.count === 8) this.flush()
    }
  }

  /** Pads the last byte with 1 bits. */
  finish(): Array<number> {
    if (this.count > 0) {
      this.current = (this.current << (8 - this.count)) | ((1 << (8 - this.count)) - 1)
      this.flush()
    }
    return this.bytes
  }

  private flush(): void {
    this.bytes.push(this.current)
    if (this.current === 0xff) this.bytes.push(0x00)
    this.current = 0
    this.count = 0
  }
}

const segment = (marker: number, body: ReadonlyArray<number>): Array<number> => [
  0xff,
  marker,
  (body.length + 2) >> 8,
  (body.length + 2) & 0xff,
  ...body
]

/** Bits needed for |n|: a DC difference's category. */
const category = (n: number): number => (n === 0 ? 0 : Math.floor(Math.log2(Math.abs(n))) + 1)

/** A square greyscale JPEG of `size` pixels, all of one `shade` (0-255), with `comment` in a COM segment. */
export const solidJpeg = (size: number, shade: number, comment: string): Uint8Array => {
  const side = Math.max(8, Math.min(10_000, Math.round(size)))
  // A constant block's DC coefficient is 8 × (value - 128); every quantizer is 1.
  const dc = 8 * (Math.max(0, Math.min(255, Math.round(shade))) - 128)
  const bits = category(dc)
  // DC table: category 0 is "0", the first block's category (if not 0) is "10". AC table: only EOB, "0".
  const dcCounts = [1, bits === 0 ? 0 : 1, ...new Array<number>(14).fill(0)]
  const dcSymbols = bits === 0 ? [0] : [0, bits]
  const acCounts = [1, ...new Array<number>(15).fill(0)]
  const scan = new BitWriter()
  const blocks = Math.ceil(side / 8) ** 2
  for (let block = 0; block < blocks; block++) {
    if (block === 0 && bits > 0) {
      scan.write(0b10, 2)
      scan.write(dc > 0 ? dc : dc + (1 << bits) - 1, bits)
    } else {
      scan.write(0, 1)
    }
    scan.write(0, 1) // end of block: every AC coefficient is 0
  }
  const text = [...Buffer.from(comment, "utf8").subarray(0, 200)]
  return Uint8Array.from([
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    ...segment(0xfe, text),
    ...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    ...segment(0xc0, [8, side >> 8, side & 0xff, side >> 8, side & 0xff, 1, 1, 0x11, 0]),
    ...segment(0xc4, [0x00, ...dcCounts, ...dcSymbols]),
    ...segment(0xc4, [0x10, ...acCounts, 0x00]),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    ...scan.finish(),
    0xff,
    0xd9
  ])
}

/** The cover of a sim album, `size` pixels square. */
export const albumCover = (seed: number, albumId: string, size: number): Uint8Array =>
  solidJpeg(size, 40 + (hash32(seed, "cover", albumId) % 176), `lyra sim cover of album ${albumId}`)

const timestamp = (seconds: number): string => {
  const minutes = Math.floor(seconds / 60)
  const rest = seconds - minutes * 60
  return `[${String(minutes).padStart(2, "0")}:${rest.toFixed(2).padStart(5, "0")}]`
}

/**
 * A sim track's lyrics: a few lines of words, plain and as LRC timed across
 * the track; about one track in five is instrumental and has none.
 */
export const trackLyrics = (seed: number, trackId: string, durationSeconds: number): Lyrics | undefined => {
  const rng = new SimRng(seed, "lyrics", trackId)
  if (rng.chance(0.2)) return undefined
  const count = rng.int(4, 12)
  const lines: Array<string> = []
  for (let i = 0; i < count; i++) {
    lines.push(`${rng.pick(Words.adjectives)} ${rng.pick(Words.nouns)}, ${rng.pick(Words.verbs).toLowerCase()} the ${rng.pick(Words.pluralNouns).toLowerCase()}`)
  }
  const step = Math.max(1, durationSeconds) / (count + 1)
  const synced = lines.map((line, i) => `${timestamp((i + 1) * step)}${line}`).join("\n")
  return new Lyrics({ unsynced: lines.join("\n"), synced })
}
