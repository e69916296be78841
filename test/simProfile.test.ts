import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import * as SimProfile from "../src/layers/sim/SimProfile.js"

const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("SimProfile", () => {
  it("has the documented defaults", () => {
    const p = SimProfile.defaultProfile
    assert.strictEqual(p.seed, 1)
    assert.deepStrictEqual(p.latency, { _tag: "LogNormal", median: 40, sigma: 0.4 })
    assert.strictEqual(p.perItemMillis, 1)
    assert.strictEqual(p.rate, 50)
    assert.strictEqual(p.burst, 20)
    assert.isTrue(p.retryAfter)
    assert.strictEqual(p.errorRate, 0.01)
    assert.strictEqual(p.bandwidth, 4_000_000)
    assert.strictEqual(p.connections, Infinity)
    assert.strictEqual(p.shape.artists, 50)
    assert.strictEqual(
      SimProfile.describe(p),
      "seed=1 latency=lognormal:40ms:0.4 rate-limit=50/s,burst=20 retry-after=on error-rate=0.01 bandwidth=4MB/s connections=unlimited artists=50"
    )
  })

  it("parses latencies, rates and bandwidths", () => {
    assert.deepStrictEqual(SimProfile.parseLatency("40ms"), { _tag: "Fixed", millis: 40 })
    assert.deepStrictEqual(SimProfile.parseLatency("0.5s"), { _tag: "Fixed", millis: 500 })
    assert.deepStrictEqual(SimProfile.parseLatency("20ms..80ms"), { _tag: "Uniform", min: 20, max: 80 })
    assert.deepStrictEqual(SimProfile.parseLatency("lognormal:40ms:0.5"), { _tag: "LogNormal", median: 40, sigma: 0.5 })
    assert.isUndefined(SimProfile.parseLatency("80ms..20ms"))
    assert.isUndefined(SimProfile.parseLatency("fast"))
    assert.deepStrictEqual(SimProfile.parseRateLimit("50/s"), { rate: 50 })
    assert.deepStrictEqual(SimProfile.parseRateLimit("50/s,burst=20"), { rate: 50, burst: 20 })
    assert.deepStrictEqual(SimProfile.parseRateLimit("600/min"), { rate: 10 })
    assert.deepStrictEqual(SimProfile.parseRateLimit("off"), { rate: Infinity })
    assert.isUndefined(SimProfile.parseRateLimit("50/s,burst=0"))
    assert.isUndefined(SimProfile.parseRateLimit("lots"))
  })

  it.effect("applies --sim entries in order", () =>
    Effect.gen(function*() {
      const p = yield* SimProfile.applyEntries([
        "seed=7",
        "latency=20ms..80ms",
        "rate-limit=10/s,burst=5",
        "retry_after=off",
        "error-rate=2%",
        "bandwidth=1MB/s",
        "connections=4",
        "artists=3",
        "fail=1101,1102",
        "corrupt=1201"
      ])
      assert.strictEqual(p.seed, 7)
      assert.deepStrictEqual(p.latency, { _tag: "Uniform", min: 20, max: 80 })
      assert.strictEqual(p.rate, 10)
      assert.strictEqual(p.burst, 5)
      assert.isFalse(p.retryAfter)
      assert.strictEqual(p.errorRate, 0.02)
      assert.strictEqual(p.bandwidth, 1_000_000)
      assert.strictEqual(p.connections, 4)
      assert.strictEqual(p.shape.artists, 3)
      assert.deepStrictEqual(p.failTracks, ["1101", "1102"])
      assert.deepStrictEqual(p.corruptTracks, ["1201"])
    }))

  it.effect("names the bad key or value in one line", () =>
    Effect.gen(function*() {
      const message = (entries: ReadonlyArray<string>) =>
        SimProfile.applyEntries(entries).pipe(Effect.flip, Effect.map((error) => error.message))
      assert.strictEqual(
        yield* message(["latency=soon"]),
        `--sim latency="soon": expected a latency like 40ms, 20ms..80ms or lognormal:40ms:0.5`
      )
      assert.match(yield* message(["speed=9"]), /^--sim: unknown key "speed" \(expected one of seed, latency, /)
      assert.strictEqual(yield* message(["seed"]), `--sim "seed": expected key=value`)
      assert.match(yield* message(["error-rate=1.5"]), /^--sim error-rate="1.5": expected a probability/)
      assert.match(yield* message(["connections=0"]), /^--sim connections="0"/)
      for (const error of [yield* message(["latency=soon"]), yield* message(["speed=9"])]) {
        assert.notInclude(error, "\n")
      }
    }))

  it.effect("reads LYRA_SIM_* through Config, then --sim over it", () =>
    Effect.gen(function*() {
      const p = yield* SimProfile.load(["seed=9"]).pipe(
        withEnv({
          LYRA_SIM_SEED: "3",
          LYRA_SIM_LATENCY: "lognormal:30ms:0.2",
          LYRA_SIM_RATE_LIMIT: "20/s,burst=4",
          LYRA_SIM_RETRY_AFTER: "off",
          LYRA_SIM_ERROR_RATE: "0",
          LYRA_SIM_BANDWIDTH: "2MB/s",
          LYRA_SIM_CONNECTIONS: "8",
          LYRA_SIM_ARTISTS: "10"
        })
      )
      assert.strictEqual(p.seed, 9)
      assert.deepStrictEqual(p.latency, { _tag: "LogNormal", median: 30, sigma: 0.2 })
      assert.strictEqual(p.rate, 20)
      assert.strictEqual(p.burst, 4)
      assert.isFalse(p.retryAfter)
      assert.strictEqual(p.errorRate, 0)
      assert.strictEqual(p.bandwidth, 2_000_000)
      assert.strictEqual(p.connections, 8)
      assert.strictEqual(p.shape.artists, 10)

      const error = yield* SimProfile.fromConfig().pipe(withEnv({ LYRA_SIM_BANDWIDTH: "fast" }), Effect.either)
      assert.isTrue(Either.isLeft(error))
      if (Either.isLeft(error)) {
        assert.strictEqual(error.left._tag, "UsageError")
        assert.match(error.left.message, /^LYRA_SIM_BANDWIDTH="fast": expected a rate per connection/)
      }
      assert.deepStrictEqual(yield* SimProfile.fromConfig().pipe(withEnv({})), SimProfile.defaultProfile)
    }))
})
