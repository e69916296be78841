import { assert, describe, it } from "@effect/vitest"
import { parseBandwidth, parseMillis, parseQuota, parseRate } from "../src/domain/Units.js"

describe("Units", () => {
  it("parses durations", () => {
    assert.strictEqual(parseMillis("40ms"), 40)
    assert.strictEqual(parseMillis("1.5s"), 1500)
    assert.strictEqual(parseMillis("2m"), 120_000)
    assert.strictEqual(parseMillis("1h"), 3_600_000)
    assert.strictEqual(parseMillis("3", "s"), 3000)
    assert.isUndefined(parseMillis("soon"))
  })

  it("parses rates per second", () => {
    assert.strictEqual(parseRate("20"), 20)
    assert.strictEqual(parseRate("20/s"), 20)
    assert.strictEqual(parseRate("1200/min"), 20)
    assert.isUndefined(parseRate("0"))
    assert.isUndefined(parseRate("fast"))
  })

  it("parses quotas", () => {
    assert.deepStrictEqual(parseQuota("5000/1h"), { limit: 5000, windowMillis: 3_600_000 })
    assert.deepStrictEqual(parseQuota("100/m"), { limit: 100, windowMillis: 60_000 })
    assert.deepStrictEqual(parseQuota("10/30s"), { limit: 10, windowMillis: 30_000 })
    assert.isUndefined(parseQuota("0/1h"))
    assert.isUndefined(parseQuota("5000"))
    assert.isUndefined(parseQuota("5000/soon"))
  })

  it("parses bandwidths", () => {
    assert.strictEqual(parseBandwidth("4MB/s"), 4_000_000)
    assert.strictEqual(parseBandwidth("512KiB/s"), 512 * 1024)
    assert.strictEqual(parseBandwidth("100Mbit/s"), 12_500_000)
    assert.strictEqual(parseBandwidth("unlimited"), Infinity)
    assert.isUndefined(parseBandwidth("4 parsecs"))
  })
})
