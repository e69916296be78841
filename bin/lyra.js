#!/usr/bin/env node
// The CLI is one bundled file, so start-up reads one module instead of hundreds.
import "../dist/lyra.mjs"
