import { Schema } from "effect"

/** OrpheusDL's quality tiers; each provider maps them to its own formats. */
export const Quality = Schema.Literal("hifi", "lossless", "high", "medium", "low")
export type Quality = typeof Quality.Type

/**
 * The bit rate, in kbps, of a lossy tier (high 320, medium 192, low 128, as
 * OrpheusDL's modules mostly map them); `undefined` for hifi and lossless.
 */
export const lossyKbps = (quality: Quality): number | undefined =>
  quality === "high" ? 320 : quality === "medium" ? 192 : quality === "low" ? 128 : undefined
