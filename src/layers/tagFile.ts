import { createHash } from "node:crypto"
import { closeSync, copyFileSync, openSync, readSync, renameSync, rmSync } from "node:fs"
import {
  ByteVector,
  File,
  Id3v2FrameClassType,
  Id3v2FrameIdentifiers,
  Id3v2Settings,
  Id3v2Tag,
  Id3v2UserTextInformationFrame,
  Mpeg4AppleAdditionalInfoBox,
  Mpeg4AppleAnnotationBox,
  Mpeg4AppleDataBox,
  Mpeg4AppleDataBoxFlagType,
  Mpeg4AppleItemListBox,
  Mpeg4AppleTag,
  Mpeg4BoxType,
  Picture,
  PictureType,
  ReadStyle,
  StringType,
  TagTypes,
  XiphComment
} from "node-taglib-sharp"
import type { CoverArt } from "../domain/Artwork.js"
import type { TrackTags } from "../domain/TrackTags.js"
import { cleanTags } from "../domain/TrackTags.js"
import { extensionOf, mimeTypes, untaggable } from "./tagFormats.js"

/**
 * Tags one file with node-taglib-sharp. Synchronous CPU and disk work: run it
 * on a worker thread (TagWorker), or where blocking is fine. The file is
 * tagged as a copy beside it and renamed over it, so a crash mid-way never
 * leaves a half-written file under the final name.
 */

/** ID3v2.4 (UTF-8 text, full dates in TDRC), whatever version a file had. */
let id3Configured = false
const configureId3 = () => {
  if (id3Configured) return
  Id3v2Settings.defaultVersion = 4
  Id3v2Settings.forceDefaultVersion = true
  Id3v2Settings.defaultEncoding = StringType.UTF8
  id3Configured = true
}

const yearOf = (date: string | undefined): number | undefined => {
  const year = date === undefined ? NaN : Number(date.slice(0, 4))
  return Number.isInteger(year) && year > 0 ? year : undefined
}

/*
 * A list goes into one item, one data box per value: that is how mutagen
 * (Picard, beets) writes it, and how TagLib and music-metadata read it.
 * node-taglib-sharp would join the values into one string or repeat the item,
 * and ffmpeg reads only the last of repeated items. It keeps the item list
 * private, hence the index access.
 */
const appleItems = (apple: Mpeg4AppleTag) => apple["_ilstBox"] as Mpeg4AppleItemListBox

const withValues = (item: Mpeg4AppleAnnotationBox, values: ReadonlyArray<string>) => {
  for (const value of values) {
    item.addChild(Mpeg4AppleDataBox.fromDataAndFlags(ByteVector.fromString(value, StringType.UTF8), Mpeg4AppleDataBoxFlagType.ContainsText))
  }
  return item
}

/** A list in a QuickTime item such as ©gen. */
const setAppleList = (apple: Mpeg4AppleTag, type: ByteVector, values: ReadonlyArray<string>) => {
  const items = appleItems(apple)
  items.removeChildByType(type)
  items.addChild(withValues(Mpeg4AppleAnnotationBox.fromType(type), values))
}

/** A list in an iTunes freeform (`----`) item. */
const setItunesList = (apple: Mpeg4AppleTag, name: string, values: ReadonlyArray<string>) => {
  const items = appleItems(apple)
  items.removeChildrenByBox(items.getItunesTagBoxes("com.apple.iTunes", name))
  const item = Mpeg4AppleAnnotationBox.fromType(Mpeg4BoxType.ITUNES_TAG_BOX)
  for (const [type, text] of [[Mpeg4BoxType.MEAN, "com.apple.iTunes"], [Mpeg4BoxType.NAME, name]] as const) {
    const part = Mpeg4AppleAdditionalInfoBox.fromTypeVersionAndFlags(type, 0, Mpeg4AppleDataBoxFlagType.ContainsText)
    part.text = text
    item.addChild(part)
  }
  items.addChild(withValues(item, values))
}

/** The date, UPC and label, which each format keeps in its own field, and M4A's lists. */
const setNative = (file: File, tags: TrackTags) => {
  const types = file.tagTypes
  if ((types & TagTypes.Xiph) !== 0) {
    const xiph = file.getTag(TagTypes.Xiph, true) as XiphComment
    if (tags.date !== undefined) xiph.setFieldAsStrings("DATE", tags.date)
    if (tags.upc !== undefined) xiph.setFieldAsStrings("BARCODE", tags.upc)
    if (tags.label !== undefined) xiph.setFieldAsStrings("LABEL", tags.label)
  }
  if ((types & TagTypes.Id3v2) !== 0) {
    const id3 = file.getTag(TagTypes.Id3v2, true) as Id3v2Tag
    if (tags.date !== undefined) id3.setTextFrame(Id3v2FrameIdentifiers.TDRC!, tags.date)
    if (tags.upc !== undefined) {
      const frames = id3.getFramesByClassType<Id3v2UserTextInformationFrame>(Id3v2FrameClassType.UserTextInformationFrame)
      const existing = Id3v2UserTextInformationFrame.findUserTextInformationFrame(frames, "BARCODE", false)
      if (existing !== undefined) id3.removeFrame(existing)
      const frame = Id3v2UserTextInformationFrame.fromDescription("BARCODE", StringType.UTF8)
      frame.text = [tags.upc]
      id3.addFrame(frame)
    }
  }
  if ((types & TagTypes.Apple) !== 0) {
    const apple = file.getTag(TagTypes.Apple, true) as Mpeg4AppleTag
    if (tags.date !== undefined) apple.setQuickTimeString(Mpeg4BoxType.DAY, tags.date)
    if (tags.upc !== undefined) apple.setItunesStrings("com.apple.iTunes", "BARCODE", tags.upc)
    if (tags.label !== undefined) apple.setItunesStrings("com.apple.iTunes", "LABEL", tags.label)
    // ©ART keeps taglib's "a; b" as the text a one-value player shows; the list goes where Picard puts it.
    if (tags.artists.length > 1) setItunesList(apple, "ARTISTS", tags.artists)
    if (tags.genres !== undefined && tags.genres.length > 1) setAppleList(apple, Mpeg4BoxType.GEN, tags.genres)
  }
}

const apply = (file: File, tags: TrackTags, cover: CoverArt | undefined) => {
  const tag = file.tag
  tag.title = tags.title
  tag.performers = [...tags.artists]
  tag.album = tags.album
  if (tags.albumArtist !== undefined) tag.albumArtists = [tags.albumArtist]
  if (tags.trackNumber !== undefined) tag.track = tags.trackNumber
  if (tags.totalTracks !== undefined) tag.trackCount = tags.totalTracks
  if (tags.discNumber !== undefined) tag.disc = tags.discNumber
  if (tags.totalDiscs !== undefined) tag.discCount = tags.totalDiscs
  const year = yearOf(tags.date)
  if (year !== undefined) tag.year = year
  if (tags.isrc !== undefined) tag.isrc = tags.isrc
  if (tags.genres !== undefined) tag.genres = [...tags.genres]
  if (tags.copyright !== undefined) tag.copyright = tags.copyright
  if (tags.composer !== undefined) tag.composers = [tags.composer]
  if (tags.label !== undefined) tag.publisher = tags.label
  if (tags.lyrics !== undefined) tag.lyrics = tags.lyrics
  if (cover !== undefined) {
    const picture = Picture.fromData(ByteVector.fromByteArray(cover.bytes))
    picture.mimeType = cover.mimeType
    picture.type = PictureType.FrontCover
    tag.pictures = [picture]
  }
  setNative(file, tags)
}

const messageOf = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  return text.split("\n")[0]!.slice(0, 200) || "unknown error"
}

/** Size and sha256 of a file, read in chunks. */
const digest = (path: string): { readonly bytes: number; readonly sha256: string } => {
  const hash = createHash("sha256")
  const buffer = Buffer.alloc(1 << 20)
  const fd = openSync(path, "r")
  let bytes = 0
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null)
      if (read === 0) break
      hash.update(buffer.subarray(0, read))
      bytes += read
    }
  } finally {
    closeSync(fd)
  }
  return { bytes, sha256: hash.digest("hex") }
}

/**
 * Tags the file at `path` (absolute) and answers its new size and sha256.
 * Throws an Error whose message is one line a user can read; the file is then
 * as it was.
 */
export const tagFile = (
  path: string,
  tags: TrackTags,
  cover: CoverArt | undefined
): { readonly bytes: number; readonly sha256: string } => {
  const reason = untaggable(path)
  if (reason !== undefined) throw new Error(reason)
  configureId3()
  const temporary = `${path}.tagging`
  try {
    copyFileSync(path, temporary)
    // ReadStyle.None: the audio is not read, only the metadata blocks it is wrapped in.
    const file = File.createFromPath(temporary, mimeTypes[extensionOf(path)], ReadStyle.None)
    try {
      apply(file, cleanTags(tags), cover)
      file.save()
    } finally {
      file.dispose()
    }
    const tagged = digest(temporary)
    renameSync(temporary, path)
    return tagged
  } catch (error) {
    rmSync(temporary, { force: true })
    throw new Error(messageOf(error))
  }
}
