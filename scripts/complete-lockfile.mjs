// The registry mirror this project installs from serves only the packages for
// this platform, so `npm install` leaves other platforms' optional packages out
// of package-lock.json, and `npm ci` then refuses the lock as out of sync.
// This writes those optional entries back (as npm would on a full registry);
// npm ci skips them on a platform they are not for.
import { readFileSync, writeFileSync } from "node:fs"

const file = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(file, "utf8"))
const packages = lock.packages
let added = 0
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path === "" ? "" : `${path}/`}node_modules/${name}`
    if (packages[nested] !== undefined || packages[`node_modules/${name}`] !== undefined) continue
    const version = /^\d+\.\d+\.\d+(?:-[\w.]+)?$/.test(spec) ? spec : spec.replace(/^[\^~=v]+/, "")
    packages[`node_modules/${name}`] = { version, dev: entry.dev, optional: true }
    added++
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)))
lock.packages = sorted
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`package-lock.json: ${added} optional entries for other platforms restored`)
