/** How busy one level was over a span of time. */
export interface Occupancy {
  /** The most intervals open at one instant (an interval ending at t and one starting at t do not overlap). */
  readonly peak: number
  /** Open intervals on average over the span, weighted by time. */
  readonly mean: number
  /** The time-weighted mean in each of `buckets` equal slices of the span. */
  readonly series: ReadonlyArray<number>
}

/**
 * Sweeps half-open intervals [start, end) over [from, to): the peak, the mean
 * and a series of means per slice. Intervals are clipped to the span.
 */
export const occupancy = (
  intervals: ReadonlyArray<readonly [number, number]>,
  from: number,
  to: number,
  buckets: number
): Occupancy => {
  const span = Math.max(0, to - from)
  const points: Array<readonly [number, number]> = []
  for (const [start, end] of intervals) {
    const a = Math.max(from, start)
    const b = Math.min(to, end)
    if (b > a) points.push([a, 1], [b, -1])
  }
  // Ends before starts at the same instant.
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1])
  const series = new Array<number>(buckets).fill(0)
  const width = span / buckets
  let open = 0
  let peak = 0
  let area = 0
  let last = from
  const spread = (a: number, b: number, count: number) => {
    if (count === 0 || b <= a || width <= 0) return
    let i = Math.min(buckets - 1, Math.floor((a - from) / width))
    let at = a
    while (at < b && i < buckets) {
      const edge = i === buckets - 1 ? b : Math.min(b, from + (i + 1) * width)
      series[i] = (series[i] ?? 0) + count * (edge - at)
      at = edge
      i++
    }
  }
  for (const [time, delta] of points) {
    area += open * (time - last)
    spread(last, time, open)
    last = time
    open += delta
    peak = Math.max(peak, open)
  }
  return {
    peak,
    mean: span > 0 ? area / span : 0,
    series: series.map((value) => (width > 0 ? value / width : 0))
  }
}
