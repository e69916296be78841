import * as Schema from "effect/Schema"

/** A file lyra could not tag: it is kept as downloaded, and the reason reported. */
export class TagError extends Schema.TaggedError<TagError>()("TagError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot tag ${this.path}: ${this.reason}`
  }
}
