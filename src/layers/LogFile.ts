import type * as FileSystem from "@effect/platform/FileSystem"
import * as PlatformLogger from "@effect/platform/PlatformLogger"
import type * as Duration from "effect/Duration"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ProgressEvent } from "../domain/ProgressEvent.js"
import { redact } from "../domain/Redact.js"
import { UsageError } from "../domain/UsageError.js"
import { Progress } from "../services/Progress.js"
import { makeFormatter } from "./PlainRenderer.js"

export interface Options {
  /** How often buffered lines are written; default 250 ms (and always when the layer closes). */
  readonly batchWindow?: Duration.DurationInput | undefined
  /** How long closing the layer waits for events still queued; default 5 seconds. */
  readonly drainTimeout?: Duration.DurationInput | undefined
}

const bigintSafe = (_: string, value: unknown) => typeof value === "bigint" ? value.toString() : value

/**
 * One JSON object per line: time, level, message, then every log annotation as
 * a field, any cause, and the log spans' durations. Everything passes `redact`
 * first, so no credential reaches the file whatever a caller annotated.
 */
export const jsonLineLogger: Logger.Logger<unknown, string> = Logger.make((options) => {
  const messages = Array.isArray(options.message) ? options.message : [options.message]
  const record: Record<string, unknown> = {
    time: options.date.toISOString(),
    level: options.logLevel.label,
    message: messages.length === 1 ? messages[0] : messages
  }
  for (const [key, value] of options.annotations) record[key] = value
  if (!Cause.isEmpty(options.cause)) record["cause"] = Cause.pretty(options.cause)
  if (List.isCons(options.spans)) {
    const now = options.date.getTime()
    record["spans"] = Object.fromEntries(
      List.toArray(options.spans).map((span) => [span.label, now - span.startTime])
    )
  }
  return JSON.stringify(redact(record), bigintSafe)
})

/**
 * Sends log lines to `logger` alone, or nowhere: the console loggers (Effect's
 * default, and the pretty one a runtime's runMain installs) are taken out, since
 * only renderers print; so is the tracer's, which would keep every request's
 * line as an event of the job's span until the job ends (and unredacted).
 */
export const useLogger = (logger: Logger.Logger<unknown, unknown> | undefined): Layer.Layer<never> =>
  Layer.fiberRefLocallyScopedWith(FiberRef.currentLoggers, (loggers) => {
    const quiet = loggers.pipe(
      HashSet.remove(Logger.defaultLogger),
      HashSet.remove(Logger.prettyLoggerDefault),
      HashSet.remove(Logger.tracerLogger)
    )
    return logger === undefined ? quiet : HashSet.add(quiet, logger)
  })

const levelOf = (event: ProgressEvent): LogLevel.LogLevel => {
  switch (event._tag) {
    case "TrackBytes":
      return LogLevel.Debug
    case "Retrying":
    case "RateLimited":
    case "CoolingDown":
    case "QuotaWaiting":
      return LogLevel.Warning
    case "ItemFinished":
      return event.state === "failed" ? LogLevel.Error : LogLevel.Info
    default:
      return LogLevel.Info
  }
}

/**
 * `--log-file <path>`: a structured log for bug reports. Every log line of the
 * run goes to the file as JSON (Debug and up: the engine logs each provider
 * request with its outcome and duration), and so does every progress event
 * (retries, rate limits, cooldowns, failures), with its fields. Secrets are
 * redacted. Opening the file is checked up front: a bad path is a usage error.
 */
export const layer = (path: string, options: Options = {}): Layer.Layer<never, UsageError, Progress | FileSystem.FileSystem> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const progress = yield* Progress
    const logger = yield* jsonLineLogger.pipe(
      PlatformLogger.toFile(path, { flag: "a", batchWindow: options.batchWindow ?? "250 millis" }),
      Effect.mapError((error) => new UsageError({ message: `--log-file ${path}: cannot open it (${error.message})` }))
    )
    const logging = Layer.merge(useLogger(logger), Logger.minimumLogLevel(LogLevel.Debug))

    const describe = makeFormatter()
    const logEvent = (event: ProgressEvent) => {
      const { _tag, ...fields } = event
      const text = describe(event)
      return Effect.logWithLevel(levelOf(event), text === undefined ? _tag : text.replace(/^\[[^\]]*\] /, "")).pipe(
        Effect.annotateLogs({ event: _tag, ...fields })
      )
    }
    const subscription = yield* Scope.make()
    const events = yield* progress.subscribe.pipe(Scope.extend(subscription))
    const writer = yield* events.pipe(Stream.runForEach(logEvent), Effect.provide(logging), Effect.forkScoped)
    yield* Effect.addFinalizer(() =>
      Scope.close(subscription, Exit.void).pipe(
        Effect.andThen(
          Fiber.await(writer).pipe(Effect.interruptible, Effect.timeout(options.drainTimeout ?? "5 seconds"), Effect.ignore)
        )
      )
    )
    return logging
  }))
