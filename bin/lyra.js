#!/usr/bin/env -S node --max-semi-space-size=2
// One bundled module (split so that the tagger loads only where it runs), and a small
// young generation: streamed chunks die young, so a big one only inflates peak memory.
import "../dist/bundle/bin.js"
