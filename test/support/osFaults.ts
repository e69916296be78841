import { spawnSync } from "node:child_process"
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"

/**
 * Real OS faults for tests: small and read-only file systems, folders that
 * refuse writes, and a way to run a process without root's powers.
 *
 * Tests run as root here, and root ignores file modes, so "permission denied"
 * cannot come from chmod alone. What each helper tries, in order:
 * - a tmpfs or a read-only bind mount gives the kernel's own ENOSPC and EROFS;
 *   it needs CAP_SYS_ADMIN (root outside a locked-down container). A child
 *   process can get the same in private mount and pid namespaces (`unshare`,
 *   as root, or in a user namespace as anyone): when it ends, the kernel ends
 *   whatever it started and drops its mounts, so nothing can leak;
 * - without root, a chmod: EACCES;
 * - as root, `chattr +i` makes a folder immutable, so even root gets EPERM
 *   (needs CAP_LINUX_IMMUTABLE and a file system that supports it);
 * - last, an empty folder is replaced by a link into sysfs, which refuses new
 *   files to everyone (EACCES/EPERM, or EROFS where /sys is mounted read-only);
 * - `setpriv` runs a child as `nobody`, for whom a root-owned folder is a plain EACCES.
 * `LYRA_TEST_NO_MOUNT=1` and `LYRA_TEST_NO_CHATTR=1` skip those ways, to exercise the fallbacks.
 */

const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const mountsAllowed = process.env.LYRA_TEST_NO_MOUNT !== "1"
const chattrAllowed = process.env.LYRA_TEST_NO_CHATTR !== "1"

const run = (command: string, args: ReadonlyArray<string>) =>
  spawnSync(command, [...args], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })

const succeeds = (command: string, args: ReadonlyArray<string>) => run(command, args).status === 0

/** A fresh temp folder (mode 0755, so `nobody` can reach inside), removed with the scope. */
export const tempFolder = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      chmodSync(dir, 0o755)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const unmount = (dir: string) => {
  // A lazy unmount if something still holds it: the mount must not outlive the test.
  if (!succeeds("umount", [dir])) run("umount", ["-l", dir])
}

/**
 * Mounts a tmpfs at `dir` (made if missing) in this process's namespace for
 * the scope; answers whether it could. Unmounted when the scope closes.
 */
export const mountTmpfs = (dir: string, options: { readonly size: string }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      if (!mountsAllowed || !isRoot) return false
      mkdirSync(dir, { recursive: true })
      return succeeds("mount", ["-t", "tmpfs", "-o", `size=${options.size},mode=0755`, "lyra-test", dir])
    }),
    (mounted) => mounted ? Effect.sync(() => unmount(dir)) : Effect.void
  )

/** How a folder was made to refuse writes, which decides the error the OS gives. */
export type Denial = "read-only mount" | "mode 0555" | "immutable" | "sysfs"

/** A folder under /sys that exists everywhere and takes no new entries. */
const sysfsFolder = "/sys/kernel"

/**
 * Makes the folder `dir` refuse new entries for the scope: a read-only bind
 * mount of itself when `prefer` asks and the OS allows (EROFS), else mode 0555
 * when not root (EACCES), else `chattr +i` (EPERM), else, if it is empty, a
 * link into sysfs in its place. Dies if none works: a test never passes
 * without a real fault.
 */
export const refuseWrites = (dir: string, prefer: "read-only mount" | "permission" = "permission") =>
  Effect.acquireRelease(
    Effect.sync((): Denial => {
      if (prefer === "read-only mount" && isRoot && mountsAllowed && succeeds("mount", ["--bind", dir, dir])) {
        if (succeeds("mount", ["-o", "remount,ro,bind", dir])) return "read-only mount"
        unmount(dir)
      }
      if (!isRoot) {
        chmodSync(dir, 0o555)
        return "mode 0555"
      }
      if (chattrAllowed && succeeds("chattr", ["+i", dir])) return "immutable"
      if (readdirSync(dir).length === 0) {
        rmdirSync(dir)
        symlinkSync(sysfsFolder, dir)
        return "sysfs"
      }
      throw new Error(`cannot make ${dir} refuse writes: no mount, no chattr +i, not empty, and running as root`)
    }),
    (denial) =>
      Effect.sync(() => {
        if (denial === "read-only mount") unmount(dir)
        else if (denial === "immutable") run("chattr", ["-i", dir])
        else if (denial === "mode 0555") chmodSync(dir, 0o755)
        else {
          unlinkSync(dir)
          mkdirSync(dir)
        }
      })
  )

/** The reason lyra should give for a write refused by `denial`, as a pattern. */
export const reasonFor = (denial: Denial): string =>
  denial === "read-only mount"
    ? "read-only file system"
    : denial === "sysfs"
    ? "(permission denied|read-only file system)"
    : "permission denied"

/**
 * What to put before a command so it runs without root's powers: `setpriv`
 * as `nobody`. Undefined when not root (nothing to drop: a chmod suffices)
 * or when setpriv is missing.
 */
export const unprivilegedPrefix = (): ReadonlyArray<string> | undefined =>
  isRoot && succeeds("setpriv", ["--version"])
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    : undefined

let namespacePrefix: ReadonlyArray<string> | null | undefined

/**
 * The command that runs a child in private mount and pid namespaces where it
 * may mount: `unshare --mount --pid` as root, or with a user namespace as anyone.
 * Probed once; undefined if the machine allows neither.
 */
export const privateMountsPrefix = (): ReadonlyArray<string> | undefined => {
  if (namespacePrefix !== undefined) return namespacePrefix ?? undefined
  namespacePrefix = null
  if (!mountsAllowed) return undefined
  const probe = mkdtempSync(join(tmpdir(), "lyra-probe-"))
  try {
    const candidates = [
      ...(isRoot ? [["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "--kill-child"]] : []),
      ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--propagation", "private", "--kill-child"]
    ]
    for (const candidate of candidates) {
      const [command, ...args] = candidate
      if (succeeds(command!, [...args, "mount", "-t", "tmpfs", "-o", "size=64k", "lyra-probe", probe])) {
        namespacePrefix = candidate
        break
      }
    }
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
  return namespacePrefix ?? undefined
}

/** A mount made inside the private namespace before lyra runs. */
export type PrivateMount =
  | { readonly _tag: "tmpfs"; readonly dir: string; readonly size: string }
  | { readonly _tag: "read-only"; readonly dir: string }

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`

/** The shell lines that make `mounts`, in order; the script stops if one fails. */
export const mountLines = (mounts: ReadonlyArray<PrivateMount>): ReadonlyArray<string> =>
  mounts.map((mount) =>
    mount._tag === "tmpfs"
      ? `mkdir -p ${quote(mount.dir)} && mount -t tmpfs -o size=${mount.size},mode=0755 lyra-test ${quote(mount.dir)}`
      : `mount --bind ${quote(mount.dir)} ${quote(mount.dir)} && mount -o remount,ro,bind ${quote(mount.dir)}`
  )

export { quote as shellQuote }
