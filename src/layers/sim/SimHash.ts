/**
 * Pure, deterministic hashing for the simulated catalog: every entity is derived
 * from hash(seed, kind, id), so a catalog of any size is random access and never
 * materialized. Not cryptographic; only stable and well mixed.
 */

/** Murmur3's 32-bit finalizer: spreads every input bit over the output. */
const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A 32-bit hash of the parts, joined so that ("1", "23") and ("12", "3") differ. */
export const hash32 = (...parts: ReadonlyArray<string | number>): number => {
  let h = 0x811c9dc5
  for (const part of parts) {
    const text = String(part)
    for (let i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
    }
    h = Math.imul(h ^ 0x1f, 0x01000193)
  }
  return fmix32(h)
}

/**
 * A small sequential generator (splitmix32) seeded from a hash, for drawing the
 * several fields of one entity. The same parts always yield the same sequence.
 */
export class SimRng {
  private state: number

  constructor(...parts: ReadonlyArray<string | number>) {
    this.state = hash32(...parts)
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    return fmix32(this.state) / 0x1_0000_0000
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<A>(items: ReadonlyArray<A>): A {
    return items[Math.floor(this.next() * items.length)] as A
  }
}
