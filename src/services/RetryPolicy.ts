import type * as Duration from "effect/Duration"
import * as Context from "effect/Context"

/** How retryable failures are retried: exponential backoff with jitter, capped, bounded. */
export class RetryPolicy extends Context.Tag("lyra/RetryPolicy")<RetryPolicy, {
  readonly retries: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
}>() {}
