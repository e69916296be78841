import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** What a failed request says about itself in the log. */
const describeFailure = (cause: Cause.Cause<unknown>): Record<string, unknown> => {
  if (Cause.isInterruptedOnly(cause)) return { outcome: "interrupted" }
  const failure = Cause.failureOption(cause)
  if (failure._tag === "None") return { outcome: "defect", error: Cause.pretty(cause) }
  const error = failure.value as { readonly _tag?: unknown; readonly message?: unknown; readonly status?: unknown }
  return {
    outcome: "error",
    error: typeof error._tag === "string" ? error._tag : "Error",
    ...(typeof error.message === "string" ? { reason: error.message } : {}),
    ...(typeof error.status === "number" ? { status: error.status } : {})
  }
}

/**
 * Runs one provider request and logs it at Debug level when it ends: provider,
 * operation, start time, duration and outcome (the status and reason of a
 * failure). Nothing is printed: `--log-file` is what turns Debug logs on.
 */
export function loggedRequest(
  provider: string,
  operation: string,
  details?: Record<string, unknown>
): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
export function loggedRequest<A>(
  provider: string,
  operation: string,
  details: Record<string, unknown>,
  describe: (value: A) => Record<string, unknown>
): <E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
export function loggedRequest(
  provider: string,
  operation: string,
  details: Record<string, unknown> = {},
  describe: (value: unknown) => Record<string, unknown> = () => ({})
) {
  return <E, R>(effect: Effect.Effect<unknown, E, R>): Effect.Effect<unknown, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (start) =>
      Effect.onExit(effect, (exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (end) =>
          Effect.logDebug("request").pipe(
            Effect.annotateLogs({
              provider,
              operation,
              ...details,
              startedAt: start,
              durationMillis: end - start,
              ...(Exit.isSuccess(exit) ? { outcome: "ok", ...describe(exit.value) } : describeFailure(exit.cause))
            })
          ))))
}
