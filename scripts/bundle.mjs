// Bundles the CLI for `npm run build`: one minified CommonJS file (so that the
// launcher can run it through V8's code cache), the launcher `bin/lyra.js` runs,
// and the script of the tagging threads.
// Built aside, then swapped in: no chunk or code cache survives from an earlier
// build, and a lyra started meanwhile never finds the folder half-written.
import { build } from "esbuild"
import { readFileSync, renameSync, rmSync } from "node:fs"

const target = "dist/bundle"
const fresh = `${target}.${process.pid}`
// A build that fails leaves nothing behind; a finished one was renamed into place already.
process.on("exit", () => rmSync(fresh, { recursive: true, force: true }))
const shared = { bundle: true, platform: "node", target: "node20", logLevel: "warning" }
// Licence notices (one has a non-ASCII name) go to <file>.LEGAL.txt, keeping the bundles ASCII.
const minifiedCjs = { ...shared, format: "cjs", minify: true, legalComments: "external" }

// CommonJS has no import.meta.url: each file finds its neighbours (the worker script, the bundle) by its own name.
const moduleUrl = {
  define: { "import.meta.url": "__lyraModuleUrl" },
  banner: { js: "const __lyraModuleUrl=require(\"node:url\").pathToFileURL(__filename).href;" }
}

const cli = await build({
  ...minifiedCjs,
  ...moduleUrl,
  entryPoints: ["dist/cli/bin.js"],
  outfile: `${fresh}/lyra.cjs`,
  // Native addons load from node_modules; the tagger is loaded only by its worker threads.
  external: ["better-sqlite3", "node-taglib-sharp"],
  metafile: true
})
// The lazily imported modules make esbuild wrap what they import, and a wrapped index starts every
// module it names: one import from "effect" made each start evaluate all of effect.
const indexes = Object.keys(cli.metafile.inputs).filter((input) =>
  /(^|\/)node_modules\/(effect|@effect\/[^/]+)\/dist\/esm\/index\.js$/.test(input)
)
if (indexes.length > 0) throw new Error(`the bundle includes ${indexes.join(", ")}: import those modules by path`)
// The launcher reads the bundle as latin1, which is UTF-8 decoding's result, and faster, only for ASCII.
const nonAscii = readFileSync(`${fresh}/lyra.cjs`).findIndex((byte) => byte > 0x7f)
if (nonAscii >= 0) throw new Error(`the bundle is not ASCII: byte ${nonAscii} (escape it in the source)`)
await build({ ...shared, ...moduleUrl, entryPoints: ["dist/cli/launch.js"], outfile: `${fresh}/bin.cjs`, format: "cjs" })
// The tagging threads' script, node-taglib-sharp included: each thread loads it on start, and from
// one file that takes 94 ms of CPU against 232 ms from the package's hundreds of modules.
await build({ ...minifiedCjs, entryPoints: ["dist/layers/TagWorker.js"], outfile: `${fresh}/TagWorker.cjs` })

rmSync(target, { recursive: true, force: true })
renameSync(fresh, target)
