#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=25
// The bundled CLI through its code-cache launcher. Memory flags, measured on
// `lyra download sim:artist:1` (peak RSS 173 MB before, 147 MB after): streamed
// chunks die young, so a small young generation only costs more scavenges, and
// a slower-growing old generation is collected before it swells.
import "../dist/bundle/bin.js"
