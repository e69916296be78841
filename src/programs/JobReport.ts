import type { ProgressSnapshot } from "../domain/ProgressSnapshot.js"

/** What a finished job did, for the exit code and the caller. */
export class JobReport {
  constructor(
    readonly done: number,
    readonly skipped: number,
    readonly failed: number,
    readonly bytes: number,
    readonly interrupted: boolean,
    readonly snapshot: ProgressSnapshot,
    /** The job's id in the JobStore, for `lyra resume` and `lyra status`. */
    readonly jobId: string
  ) {}

  /** Tracks by state; a failed album, playlist or artist lookup counts as a failure too. */
  static fromSnapshot(snapshot: ProgressSnapshot, interrupted: boolean, jobId: string): JobReport {
    const tracks = snapshot.tally("track")
    const parents = new Set<string>()
    for (const view of snapshot.items.values()) if (view.parent !== undefined) parents.add(view.parent)
    let failedGroups = 0
    for (const view of snapshot.items.values()) {
      if (view.kind !== "track" && view.state === "failed" && !parents.has(view.item)) failedGroups++
    }
    return new JobReport(
      tracks.done,
      tracks.skipped,
      tracks.failed + failedGroups,
      snapshot.bytes,
      interrupted,
      snapshot,
      jobId
    )
  }

  get succeeded(): boolean {
    return this.failed === 0 && !this.interrupted
  }
}
