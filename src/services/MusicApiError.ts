import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/** A network fault, timeout or 5xx: worth retrying. */
export class TransientError extends Schema.TaggedError<TransientError>()("TransientError", {
  provider: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.provider}: ${this.reason}`
  }
}

/** A 429 or 503. `retryAfterMillis` is set when the service said how long to wait. */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>()("RateLimitedError", {
  provider: Schema.String,
  status: Schema.Int,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {
  override get message() {
    const wait = this.retryAfterMillis === undefined
      ? "no Retry-After"
      : `Retry-After ${Duration.format(Duration.millis(this.retryAfterMillis))}`
    return `${this.provider}: rate limited (HTTP ${this.status}, ${wait})`
  }
}

export class NotFoundError extends Schema.TaggedError<NotFoundError>()("NotFoundError", {
  provider: Schema.String,
  what: Schema.String
}) {
  override get message() {
    return `${this.provider}: ${this.what} not found`
  }
}

export class UnauthorizedError extends Schema.TaggedError<UnauthorizedError>()("UnauthorizedError", {
  provider: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.provider}: unauthorized (${this.reason})`
  }
}

/** A bad request or an answer that fails its Schema. */
export class InvalidError extends Schema.TaggedError<InvalidError>()("InvalidError", {
  provider: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.provider}: invalid ${this.reason}`
  }
}

/** Bytes that do not match the expected size or checksum. */
export class IntegrityError extends Schema.TaggedError<IntegrityError>()("IntegrityError", {
  provider: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.provider}: integrity check failed (${this.reason})`
  }
}

/** Every error a provider call can end in. */
export type MusicApiError =
  | TransientError
  | RateLimitedError
  | NotFoundError
  | UnauthorizedError
  | InvalidError
  | IntegrityError

/** Transient faults, rate limits and corrupt transfers are retried; the rest are final. */
export const isRetryable = (error: { readonly _tag: string }): boolean =>
  error._tag === "TransientError" || error._tag === "RateLimitedError" || error._tag === "IntegrityError"
