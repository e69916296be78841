import * as Schema from "effect/Schema"

/** Bad input from the user (a malformed reference, an unknown provider, a bad option): exit code 2. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}
