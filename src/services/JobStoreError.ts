import * as Schema from "effect/Schema"

/** The state store cannot be used: locked by another lyra, corrupt, too new, or failing. */
export class JobStoreError extends Schema.TaggedError<JobStoreError>()("JobStoreError", {
  message: Schema.String
}) {}
