import type { FinalState, ItemKind, ProgressEvent } from "../domain/ProgressEvent.js"

/** One album, playlist or single as it ran: the rows of the Gantt chart. */
export interface GroupSpan {
  readonly item: string
  readonly kind: ItemKind
  readonly label: string
  startedAt: number | undefined
  finishedAt: number | undefined
  state: FinalState | undefined
  readonly tracks: Array<TrackSpan>
}

/** One track placement as it ran. */
export interface TrackSpan {
  readonly item: string
  readonly parent: string | undefined
  startedAt: number | undefined
  finishedAt: number | undefined
  state: FinalState | undefined
  reason: string | undefined
  /** The size announced when it was queued, if known; then the size of what it transferred (another quality's, say). */
  sizeBytes: number | undefined
  bytes: number
  retries: number
}

/**
 * What a simulated job did, folded from its progress events as they are
 * published: spans for the chart and the levels, and the times of rate limits
 * and cooldowns. It keeps a few numbers per item, never the event log.
 */
export class Timeline {
  startedAt: number | undefined = undefined
  finishedAt: number | undefined = undefined
  readonly groups: Array<GroupSpan> = []
  readonly tracks: Array<TrackSpan> = []
  /** Items that ended failed without ever starting (a failed lookup), with their reasons. */
  readonly unstarted: Array<{ readonly item: string; readonly kind: ItemKind; readonly reason: string | undefined }> = []
  readonly rateLimitedAt: Array<number> = []
  readonly cooldowns: Array<{ readonly from: number; readonly until: number }> = []
  retries = 0
  private readonly groupsByItem = new Map<string, GroupSpan>()
  private readonly tracksByItem = new Map<string, TrackSpan>()
  private readonly kinds = new Map<string, { readonly kind: ItemKind; readonly label: string; readonly parent: string | undefined }>()

  readonly record = (event: ProgressEvent): void => {
    switch (event._tag) {
      case "JobStarted":
        this.startedAt = event.at
        return
      case "JobFinished":
        this.finishedAt = event.at
        return
      case "ItemQueued": {
        this.kinds.set(event.item, { kind: event.kind, label: event.label, parent: event.parent })
        // A track's parent is its group: an album, a playlist, or the group around a single track.
        if (event.kind === "track" && event.parent !== undefined) {
          const group = this.groupOf(event.parent)
          const span: TrackSpan = {
            item: event.item,
            parent: event.parent,
            startedAt: undefined,
            finishedAt: undefined,
            state: undefined,
            reason: undefined,
            sizeBytes: event.sizeBytes,
            bytes: 0,
            retries: 0
          }
          this.tracks.push(span)
          this.tracksByItem.set(event.item, span)
          group.tracks.push(span)
        }
        return
      }
      case "ItemStarted": {
        const known = this.kinds.get(event.item)
        if (known === undefined || known.kind === "artist") return
        const span = this.tracksByItem.get(event.item) ?? this.groupOf(event.item)
        span.startedAt = event.at
        return
      }
      case "ItemFinished": {
        const known = this.kinds.get(event.item)
        if (known === undefined || known.kind === "artist") return
        const span = this.tracksByItem.get(event.item) ?? this.groupsByItem.get(event.item)
        if (span === undefined || span.startedAt === undefined) {
          if (event.state === "failed") this.unstarted.push({ item: event.item, kind: event.kind, reason: event.reason })
          if (span === undefined) return
        }
        span.finishedAt = event.at
        span.state = event.state
        if ("reason" in span) {
          span.reason = event.reason
          span.bytes = event.bytes ?? span.bytes
        }
        return
      }
      case "TrackBytes": {
        const span = this.tracksByItem.get(event.item)
        if (span !== undefined && event.totalBytes !== undefined) span.sizeBytes = event.totalBytes
        return
      }
      case "Retrying": {
        this.retries++
        const item = (event as { readonly item?: string }).item
        const span = item === undefined ? undefined : this.tracksByItem.get(item)
        if (span !== undefined) span.retries++
        return
      }
      case "RateLimited":
        this.rateLimitedAt.push(event.at)
        return
      case "CoolingDown":
        this.cooldowns.push({ from: event.at, until: event.untilMillis })
        return
      default:
        return
    }
  }

  /** The group for `item`, made on first sight (an album's ItemQueued comes before its tracks'). */
  private groupOf(item: string): GroupSpan {
    let group = this.groupsByItem.get(item)
    if (group === undefined) {
      const known = this.kinds.get(item)
      group = {
        item,
        kind: known?.kind ?? "album",
        label: known?.label ?? item,
        startedAt: undefined,
        finishedAt: undefined,
        state: undefined,
        tracks: []
      }
      this.groupsByItem.set(item, group)
      this.groups.push(group)
    }
    return group
  }
}

/** The track id in a track placement's item (`sim:track:1101`, `sim:track:1101#2`). */
export const trackIdOf = (item: string): string | undefined => /:track:([^#/]+)/.exec(item)?.[1]

/**
 * When each started track let go of its download slot: the end of its last byte
 * transfer, at or after it started. Post-processing (covers, lyrics, tags) runs
 * after that, outside the track level, so a track's ItemFinished can come later;
 * a track that moved no bytes (a copy, a failure before any transfer) holds its
 * slot until it finishes.
 */
export const downloadEnds = (
  tracks: ReadonlyArray<TrackSpan>,
  requests: ReadonlyArray<{ readonly endpoint: string; readonly id: string; readonly at: number; readonly doneAt?: number | undefined }>
): Map<TrackSpan, number> => {
  const transfers = new Map<string, Array<{ readonly at: number; readonly doneAt: number }>>()
  for (const request of requests) {
    if (request.endpoint !== "stream" || request.doneAt === undefined) continue
    const list = transfers.get(request.id) ?? []
    list.push({ at: request.at, doneAt: request.doneAt })
    transfers.set(request.id, list)
  }
  const ends = new Map<TrackSpan, number>()
  for (const track of tracks) {
    if (track.startedAt === undefined) continue
    const id = trackIdOf(track.item)
    let end: number | undefined
    for (const transfer of (id === undefined ? undefined : transfers.get(id)) ?? []) {
      const inside = transfer.at >= track.startedAt && (track.finishedAt === undefined || transfer.doneAt <= track.finishedAt)
      if (inside && (end === undefined || transfer.doneAt > end)) end = transfer.doneAt
    }
    const finished = track.finishedAt
    ends.set(track, end ?? finished ?? Number.POSITIVE_INFINITY)
  }
  return ends
}
