#!/usr/bin/env -S node --max-semi-space-size=2
// The bundled CLI through its code-cache launcher. A small young generation:
// streamed chunks die young, so a big one only inflates peak memory.
import "../dist/bundle/bin.js"
