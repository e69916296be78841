import { parentPort } from "node:worker_threads"
import type { CoverArt } from "../domain/Artwork.js"
import type { TrackTags } from "../domain/TrackTags.js"
import { tagFile } from "./tagFile.js"

/** One file to tag, as TaggerLive posts it. */
export interface TagJob {
  readonly id: number
  readonly path: string
  readonly tags: TrackTags
  readonly cover: CoverArt | undefined
}

/** Its answer: the tagged file's size and sha256, or the one-line reason it could not be tagged. */
export interface TagReply {
  readonly id: number
  readonly error: string | undefined
  readonly bytes?: number | undefined
  readonly sha256?: string | undefined
}

// A worker thread of TaggerLive's pool: tags files one at a time, off the main thread.
parentPort?.on("message", (job: TagJob) => {
  let reply: TagReply
  try {
    reply = { id: job.id, error: undefined, ...tagFile(job.path, job.tags, job.cover) }
  } catch (cause) {
    reply = { id: job.id, error: cause instanceof Error ? cause.message : String(cause) }
  }
  parentPort?.postMessage(reply)
})
