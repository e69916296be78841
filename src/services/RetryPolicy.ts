import type { Duration } from "effect"
import { Context } from "effect"

/** How retryable failures are retried: exponential backoff with jitter, capped, bounded. */
export class RetryPolicy extends Context.Tag("lyra/RetryPolicy")<RetryPolicy, {
  readonly retries: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
}>() {}
