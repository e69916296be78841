// The `lyra` executable: runs the bundled CLI (lyra.cjs) through V8's code cache.
// Node 20 has no compile cache for modules, and compiling the 1.7 MB bundle was
// most of start-up. The cache is written after the first run, so it holds the
// functions that run actually compiled, not just the top level; V8 itself rejects
// a cache made for other source, flags or version, and it is then written anew.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

const bundle = fileURLToPath(new URL("./lyra.cjs", import.meta.url))
const folder = dirname(bundle)
const cacheFiles = [
  join(folder, "lyra.cjs.cache"),
  join(tmpdir(), `lyra-${process.getuid?.() ?? "user"}`, `${process.versions.v8}.cache`)
]

const readCache = (): Buffer | undefined => {
  for (const file of cacheFiles) {
    try {
      return readFileSync(file)
    } catch {
      // Not there or not readable: try the next place, or compile without one.
    }
  }
  return undefined
}

/** Written whole under a temporary name, then renamed: a concurrent start never reads half a cache. */
const writeCache = (data: Buffer) => {
  for (const file of cacheFiles) {
    try {
      mkdirSync(dirname(file), { recursive: true })
      const temporary = `${file}.${process.pid}`
      writeFileSync(temporary, data)
      renameSync(temporary, file)
      return
    } catch {
      // A read-only install: try the next place; without any, start-up is only slower.
    }
  }
}

const cachedData = readCache()
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, "utf8")}\n})`,
  { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) }
)
if (cachedData === undefined || script.cachedDataRejected === true) {
  process.once("exit", () => writeCache(script.createCachedData()))
}
const module = { exports: {} }
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, folder)
