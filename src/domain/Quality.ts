import * as Schema from "effect/Schema"

/** OrpheusDL's quality tiers, best first; each provider maps them to its own formats. */
export const Quality = Schema.Literal("hifi", "lossless", "high", "medium", "low", "minimum")
export type Quality = typeof Quality.Type

const bitRates: Readonly<Record<Quality, number | undefined>> = {
  hifi: undefined,
  lossless: undefined,
  high: 320,
  medium: 192,
  low: 128,
  minimum: 96
}

/**
 * The bit rate, in kbps, of a lossy tier (high 320, medium 192, low 128,
 * minimum 96, as OrpheusDL's modules mostly map them); `undefined` for hifi
 * and lossless.
 */
export const lossyKbps = (quality: Quality): number | undefined => bitRates[quality]
