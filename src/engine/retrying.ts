import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import { isRetryable } from "../services/MusicApiError.js"
import type { Progress } from "../services/Progress.js"
import type { RetryPolicy } from "../services/RetryPolicy.js"

/** A failure that can say whether it is worth another attempt. */
export interface RetryableError {
  readonly _tag: string
  readonly message: string
  readonly retryAfterMillis?: number | undefined
}

export interface RetryNotice<E> {
  readonly error: E
  /** 1 for the first retry. */
  readonly attempt: number
  readonly delay: Duration.Duration
}

/**
 * Exponential backoff with jitter, capped at `maxDelay`, at most `retries`
 * retries, only while `isRetryable`. An error that carries a Retry-After is
 * retried with no delay of its own: the RateLimiter's shared cooldown gate
 * makes the next attempt wait exactly as long as the service asked.
 */
export const retrySchedule = <E extends RetryableError>(
  policy: RetryPolicy["Type"],
  isRetryable: (error: E) => boolean,
  onRetry: (notice: RetryNotice<E>) => Effect.Effect<void>
): Schedule.Schedule<unknown, E> =>
  Schedule.exponential(policy.baseDelay, 2).pipe(
    Schedule.jittered,
    Schedule.union(Schedule.spaced(policy.maxDelay)),
    Schedule.intersect(Schedule.identity<E>()),
    // Whole milliseconds keep virtual timelines exact; a Retry-After is waited out at the gate instead.
    Schedule.modifyDelay(([, error], delay) =>
      error.retryAfterMillis === undefined ? Duration.millis(Math.round(Duration.toMillis(delay))) : Duration.zero
    ),
    Schedule.whileInput(isRetryable),
    Schedule.intersect(Schedule.recurs(policy.retries)),
    Schedule.onDecision(([[, error], count], decision) =>
      ScheduleDecision.isDone(decision) ? Effect.void : Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          onRetry({
            error,
            attempt: count + 1,
            delay: Duration.millis(Math.max(0, ScheduleIntervals.start(decision.intervals) - now))
          })
      )
    )
  )

/** Retries `effect` on the policy's schedule, publishing a `Retrying` event before each retry. */
export const retryingWithProgress = (
  policy: RetryPolicy["Type"],
  progress: Progress["Type"],
  provider: string,
  operation: string,
  item?: string
) =>
<A, E extends RetryableError, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(
    effect,
    retrySchedule<E>(policy, isRetryable, (notice) =>
      progress.publish({
        _tag: "Retrying",
        provider,
        operation,
        ...(item === undefined ? {} : { item }),
        attempt: notice.attempt,
        delayMillis: Duration.toMillis(notice.delay),
        reason: notice.error.message
      }))
  )
