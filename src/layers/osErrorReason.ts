import * as fs from "node:fs"
import * as path from "node:path"

/** What an errno means to someone who has to free space or fix a folder: no jargon, no stack. */
const reasons: Readonly<Record<string, string>> = {
  ENOSPC: "disk full",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOTDIR: "a parent of this path is a file, not a folder",
  EISDIR: "a folder is in the way",
  ENOTEMPTY: "a folder is in the way",
  ENOENT: "no such file or folder",
  EEXIST: "something is already in the way",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  EBUSY: "file is busy",
  EIO: "input/output error",
  EXDEV: "cannot rename across devices"
}

/** The errno code (`ENOSPC`...) an error from Node carries, if any. */
export const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined

/** The plain reason for an errno code, if lyra knows it. */
export const reasonOfCode = (code: string): string | undefined => reasons[code]

/**
 * The errno a folder really failed with. Node's recursive mkdir answers ENOENT
 * for some faults (a read-only file system among them), so when it does, the
 * missing folders are made one by one, which surfaces the true code.
 */
export const mkdirFailureCode = (folder: string, error: unknown): string | undefined => {
  const code = errnoCode(error)
  if (code !== "ENOENT") return code
  const missing: Array<string> = []
  for (let at = path.resolve(folder); !fs.existsSync(at); at = path.dirname(at)) {
    missing.unshift(at)
    if (path.dirname(at) === at) break
  }
  try {
    for (const each of missing) fs.mkdirSync(each)
    return code
  } catch (again) {
    return errnoCode(again) ?? code
  }
}

/** One line for a folder that could not be made: its errno's reason, or Node's own first line. */
export const mkdirProblem = (folder: string, error: unknown): string => {
  const code = mkdirFailureCode(folder, error)
  return (code === undefined ? undefined : reasonOfCode(code)) ?? String((error as Error)?.message ?? error).split("\n")[0]!
}
