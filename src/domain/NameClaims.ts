import { collisionKey, numberedStem, planSegments } from "./SafePath.js"

/**
 * The library names a job has handed out, so that two different tracks never
 * share one: the first to claim a name keeps it, the next gets `name (2)`,
 * then `name (3)`. The same track asking again for the same place gets the
 * same name. Claims are made in a fixed order (a group's tracks in its order,
 * before any of them starts), so the names are deterministic. Case is ignored,
 * as case-insensitive file systems would.
 */
export class NameClaims {
  private readonly owners = new Map<string, string>()

  /**
   * Plans `segments` (folders, then the stem) and claims the name for `owner`;
   * answers planned segments that only `owner` holds.
   */
  claim(segments: ReadonlyArray<string>, owner: string): ReadonlyArray<string> {
    const planned = planSegments(segments)
    const folders = planned.slice(0, -1)
    const stem = planned.at(-1) ?? "_"
    for (let n = 1;; n++) {
      const candidate = n === 1 ? planned : [...folders, numberedStem(stem, n)]
      const key = collisionKey(candidate)
      const holder = this.owners.get(key)
      if (holder === undefined) {
        this.owners.set(key, owner)
        return candidate
      }
      if (holder === owner) return candidate
    }
  }
}
