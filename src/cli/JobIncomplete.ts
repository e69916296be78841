import * as Data from "effect/Data"

/** A job that ran to its end with some items failed: exit code 1, the summary already says which. */
export class JobIncomplete extends Data.TaggedError("JobIncomplete")<{ readonly failed: number }> {}
