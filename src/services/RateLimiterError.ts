import * as Schema from "effect/Schema"

/** The `--quota` ran out and `--on-quota stop` was chosen. */
export class QuotaExhaustedError extends Schema.TaggedError<QuotaExhaustedError>()("QuotaExhaustedError", {
  provider: Schema.String,
  limit: Schema.Int,
  windowMillis: Schema.Number
}) {
  override get message() {
    return `${this.provider}: API quota of ${this.limit} calls per window used up (stopping, as --on-quota stop asks)`
  }
}
