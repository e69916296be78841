#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --heap-growing-percent=25
// The bundled CLI through its code-cache launcher. Memory flags, measured on
// `lyra download sim:artist:1` (peak RSS 173 MB before, 147 MB after): streamed
// chunks die young, so a small young generation only costs more scavenges, and
// a slower-growing old generation is collected before it swells. Two malloc
// arenas, not one per thread: in a 30-minute soak RSS rose 13% with glibc's
// default and 1.5% with two (the JS heap flat in both), and peak RSS fell too.
// CommonJS (bin/package.json says so), as is the launcher it loads: starting
// through the ESM loader cost `lyra --version` 23 ms more (346 against 323 ms,
// 21 interleaved runs).
require("../dist/bundle/bin.cjs")
