import * as Schema from "effect/Schema"

/** The disk said no: full, read-only, permission denied, or a path that is not ours. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot write ${this.path}: ${this.reason}`
  }
}
