// Exits 0 when dist/ was built from the sources as they are now, 1 otherwise, so that
// `prepare` can skip a build that is already done. npm runs `prepare` again when `npx lyra`
// first links the project into its own cache, and on a fresh clone that second build made
// the README's first command 10 s slower.
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const outputs = [
  "dist/index.js",
  "dist/layers/TagWorker.js",
  "dist/bundle/bin.cjs",
  "dist/bundle/lyra.cjs",
  "dist/bundle/TagWorker.cjs"
]
const inputs = ["src", "scripts/bundle.mjs", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]

const newest = (path) => {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), info.mtimeMs)
}

try {
  const built = Math.min(...outputs.map((path) => statSync(path).mtimeMs))
  process.exit(built >= Math.max(...inputs.map(newest)) ? 0 : 1)
} catch {
  process.exit(1)
}
