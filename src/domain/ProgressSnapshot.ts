import type { FinalState, ItemKind, ProgressEvent } from "./ProgressEvent.js"

export interface ItemView {
  readonly item: string
  readonly kind: ItemKind
  readonly label: string
  readonly parent: string | undefined
  readonly path: string | undefined
  sizeBytes: number | undefined
  state: "queued" | "running" | FinalState
  bytes: number
  reason: string | undefined
  /** When it last started, and when it ended (Clock milliseconds). */
  startedAt: number | undefined
  finishedAt: number | undefined
  /** The first byte count reported since it started, and when: the base of its speed (a resume starts past 0). */
  firstBytes: number | undefined
  firstBytesAt: number | undefined
}

export interface Tally {
  readonly done: number
  readonly skipped: number
  readonly failed: number
  readonly pending: number
}

/** The limits a job runs under, as JobStarted announced them. */
export interface JobLimits {
  readonly albums: number
  readonly tracks: number
  readonly tracksPerAlbum: number
  readonly api: number
}

/** How far along a group's (album's, playlist's) tracks are. */
export interface ChildCounts {
  total: number
  done: number
  skipped: number
  failed: number
}

type State = ItemView["state"]

/** Tallies are kept per kind, with the group around a single track apart from the tracks. */
type CountKey = ItemKind | "single"

const emptyCounts = (): Record<State, number> => ({ queued: 0, running: 0, done: 0, skipped: 0, failed: 0 })

/**
 * Bytes per second over whole seconds of the job: the recent rate (the current
 * bandwidth) and the best rate seen, each over a few seconds so that bursty
 * progress reports do not read as spikes.
 */
export class ThroughputMeter {
  static readonly bucketMillis = 1000
  /** How many whole buckets a rate spans. */
  static readonly windowBuckets = 3

  private origin: number | undefined = undefined
  /** Bytes of the last few buckets; the last one is bucket `bucket`, still filling. */
  private readonly recent: Array<number> = [0]
  private bucket = 0
  private peak = 0
  /** Every byte counted since the start. */
  total = 0

  /** Starts the clock at `at`, dropping what came before. */
  start(at: number): void {
    this.origin = at
    this.recent.length = 0
    this.recent.push(0)
    this.bucket = 0
    this.peak = 0
    this.total = 0
  }

  /** Counts `bytes` at time `at`; times never decrease. */
  add(at: number, bytes: number): void {
    if (this.origin === undefined) this.start(at)
    const index = this.indexOf(at)
    while (this.bucket < index) {
      // The newest bucket is whole now: rate the window that ends with it.
      const rate = this.rateOf(this.recent.slice(-ThroughputMeter.windowBuckets))
      if (rate > this.peak) this.peak = rate
      this.recent.push(0)
      if (this.recent.length > ThroughputMeter.windowBuckets + 1) this.recent.shift()
      this.bucket++
    }
    this.recent[this.recent.length - 1] = (this.recent[this.recent.length - 1] ?? 0) + bytes
    this.total += bytes
  }

  /** Bytes per second over the whole buckets just before `now`; early on, over the time so far. */
  current(now: number): number {
    if (this.origin === undefined) return 0
    const index = this.indexOf(now)
    if (index === 0) {
      const elapsed = now - this.origin
      return elapsed > 0 ? ((this.recent[this.recent.length - 1] ?? 0) * 1000) / elapsed : 0
    }
    const from = Math.max(0, index - ThroughputMeter.windowBuckets)
    let sum = 0
    for (let i = 0; i < this.recent.length; i++) {
      const bucket = this.bucket - (this.recent.length - 1 - i)
      if (bucket >= from && bucket < index) sum += this.recent[i] ?? 0
    }
    return this.rateOf({ length: index - from, sum })
  }

  /** The best rate over `windowBuckets` consecutive whole buckets so far (0 until one is whole). */
  peakPerSecond(): number {
    return this.peak
  }

  private indexOf(at: number): number {
    return Math.max(0, Math.floor((at - (this.origin ?? at)) / ThroughputMeter.bucketMillis))
  }

  private rateOf(window: ReadonlyArray<number> | { readonly length: number; readonly sum: number }): number {
    const sum = "sum" in window ? window.sum : window.reduce((a, b) => a + b, 0)
    return window.length === 0 ? 0 : (sum * 1000) / (window.length * ThroughputMeter.bucketMillis)
  }
}

/**
 * Everything a renderer or the summary needs, folded from the event stream.
 * It updates in place (O(1) an event) so that a 100,000-track job stays cheap.
 */
export class ProgressSnapshot {
  startedAt: number | undefined = undefined
  finishedAt: number | undefined = undefined
  lastEventAt: number | undefined = undefined
  readonly items = new Map<string, ItemView>()
  bytes = 0
  retries = 0
  rateLimited = 0
  readonly coolingDown = new Map<string, number>()
  /** Per provider: when its quota's next window opens, while a quota is holding calls back. */
  readonly quotaWaiting = new Map<string, number>()
  interrupted = false
  /** The job's limits, once it has started. */
  limits: JobLimits | undefined = undefined
  /** Items running now, in the order they started. */
  readonly running = new Map<string, ItemView>()
  /** Items that have children: albums, playlists and the group around a single track. */
  readonly groups = new Set<string>()
  /** Per group: how many of its tracks there are and how they ended. */
  readonly children = new Map<string, ChildCounts>()
  /** Bytes expected for every track known so far: the final count of finished ones, the announced size of the rest. */
  plannedBytes = 0
  /** Retries and rate limits per provider. */
  readonly retriesBy = new Map<string, number>()
  readonly rateLimitedBy = new Map<string, number>()
  readonly throughput = new ThroughputMeter()
  private readonly counts = new Map<CountKey, Record<State, number>>()

  apply(event: ProgressEvent): void {
    this.lastEventAt = event.at
    switch (event._tag) {
      case "JobStarted":
        this.startedAt = event.at
        this.limits = event.limits
        this.throughput.start(event.at)
        return
      case "ItemQueued": {
        const old = this.items.get(event.item)
        if (old !== undefined) this.forget(old)
        const view: ItemView = {
          item: event.item,
          kind: event.kind,
          label: event.label,
          parent: event.parent,
          path: event.path,
          sizeBytes: event.sizeBytes,
          state: "queued",
          bytes: 0,
          reason: undefined,
          startedAt: undefined,
          finishedAt: undefined,
          firstBytes: undefined,
          firstBytesAt: undefined
        }
        this.items.set(event.item, view)
        this.count(this.keyOf(view))[view.state]++
        if (this.isTrack(view)) this.plannedBytes += view.sizeBytes ?? 0
        if (view.parent !== undefined) {
          this.becomeGroup(view.parent)
          this.childCounts(view.parent).total++
        }
        return
      }
      case "ItemStarted": {
        const view = this.items.get(event.item)
        if (view === undefined) return
        this.move(view, "running")
        view.startedAt = event.at
        view.firstBytes = undefined
        view.firstBytesAt = undefined
        this.running.delete(view.item)
        this.running.set(view.item, view)
        return
      }
      case "TrackBytes": {
        const view = this.items.get(event.item)
        if (view === undefined) return
        this.addBytes(event.at, Math.max(0, event.bytes - view.bytes), true)
        if (view.firstBytesAt === undefined) {
          view.firstBytes = event.bytes
          view.firstBytesAt = event.at
        }
        view.bytes = event.bytes
        if (event.totalBytes !== undefined && event.totalBytes !== view.sizeBytes) {
          if (this.isTrack(view) && !isFinal(view.state)) {
            this.plannedBytes += event.totalBytes - (view.sizeBytes ?? 0)
          }
          view.sizeBytes = event.totalBytes
        }
        return
      }
      case "ItemFinished": {
        const view = this.items.get(event.item)
        if (view === undefined) return
        if (event.bytes !== undefined) {
          // A skipped file was already there: its bytes count as written, but not as throughput.
          this.addBytes(event.at, Math.max(0, event.bytes - view.bytes), event.state !== "skipped")
          view.bytes = event.bytes
        }
        if (this.isTrack(view) && !isFinal(view.state)) {
          this.plannedBytes += view.bytes - (view.sizeBytes ?? 0)
        }
        const wasFinal = isFinal(view.state)
        this.move(view, event.state)
        view.reason = event.reason
        view.finishedAt = event.at
        this.running.delete(view.item)
        if (view.parent !== undefined && !wasFinal) this.childCounts(view.parent)[event.state]++
        return
      }
      case "Retrying":
        this.retries++
        this.retriesBy.set(event.provider, (this.retriesBy.get(event.provider) ?? 0) + 1)
        return
      case "RateLimited":
        this.rateLimited++
        this.rateLimitedBy.set(event.provider, (this.rateLimitedBy.get(event.provider) ?? 0) + 1)
        return
      case "CoolingDown":
        this.coolingDown.set(event.provider, event.untilMillis)
        return
      case "QuotaWaiting":
        this.quotaWaiting.set(event.provider, event.untilMillis)
        return
      case "JobFinished":
        this.finishedAt = event.at
        this.interrupted = event.interrupted
        return
    }
  }

  /**
   * Counts the items of one kind by state. Tracks are tracks only: the group
   * that holds a track downloaded on its own is not counted again.
   */
  tally(kind: ItemKind): Tally {
    const counts = this.counts.get(kind)
    if (counts === undefined) return { done: 0, skipped: 0, failed: 0, pending: 0 }
    return { done: counts.done, skipped: counts.skipped, failed: counts.failed, pending: counts.queued + counts.running }
  }

  /** How many items of one kind are in one state now (tracks without the groups around singles). */
  countOf(kind: ItemKind, state: State): number {
    return this.counts.get(kind)?.[state] ?? 0
  }

  /** Items that ended failed, with their reasons. */
  failures(): ReadonlyArray<ItemView> {
    return [...this.items.values()].filter((view) => view.state === "failed")
  }

  /** A label with its group's for context: `Album / 03. Song`. */
  labelOf(view: ItemView): string {
    const parent = view.parent === undefined ? undefined : this.items.get(view.parent)
    return parent === undefined || parent.kind === "artist" ? view.label : `${parent.label} / ${view.label}`
  }

  /** Whether `view` is a group (an album, a playlist, or the group around a single track) rather than a track. */
  isGroup(view: ItemView): boolean {
    return view.kind === "album" || view.kind === "playlist" || (view.kind === "track" && this.groups.has(view.item))
  }

  /** Whether `view` is a track itself, not the group around one. */
  isTrack(view: ItemView): boolean {
    return view.kind === "track" && !this.groups.has(view.item)
  }

  private keyOf(view: ItemView): CountKey {
    return this.isTrack(view) || view.kind !== "track" ? view.kind : "single"
  }

  /** Marks `item` as having children; a track-kind item that does is a single's group, not a track. */
  private becomeGroup(item: string): void {
    if (this.groups.has(item)) return
    const view = this.items.get(item)
    if (view !== undefined && view.kind === "track") {
      this.count("track")[view.state]--
      this.plannedBytes -= isFinal(view.state) ? view.bytes : view.sizeBytes ?? 0
      this.groups.add(item)
      this.count("single")[view.state]++
      return
    }
    this.groups.add(item)
  }

  private count(kind: CountKey): Record<State, number> {
    let counts = this.counts.get(kind)
    if (counts === undefined) {
      counts = emptyCounts()
      this.counts.set(kind, counts)
    }
    return counts
  }

  private childCounts(parent: string): ChildCounts {
    let counts = this.children.get(parent)
    if (counts === undefined) {
      counts = { total: 0, done: 0, skipped: 0, failed: 0 }
      this.children.set(parent, counts)
    }
    return counts
  }

  private move(view: ItemView, state: State): void {
    const counts = this.count(this.keyOf(view))
    counts[view.state]--
    counts[state]++
    view.state = state
  }

  /** Takes back what an item counted for, before it is queued again. */
  private forget(view: ItemView): void {
    this.count(this.keyOf(view))[view.state]--
    this.running.delete(view.item)
    if (this.isTrack(view)) this.plannedBytes -= isFinal(view.state) ? view.bytes : view.sizeBytes ?? 0
    if (view.parent !== undefined) {
      const counts = this.children.get(view.parent)
      if (counts !== undefined) {
        counts.total--
        if (isFinal(view.state)) counts[view.state as FinalState]--
      }
    }
  }

  private addBytes(at: number, bytes: number, transferred: boolean): void {
    this.bytes += bytes
    this.throughput.add(at, transferred ? bytes : 0)
  }
}

const isFinal = (state: State): state is FinalState => state === "done" || state === "skipped" || state === "failed"
