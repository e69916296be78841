import { Schema } from "effect"

/** OrpheusDL's quality tiers; each provider maps them to its own formats. */
export const Quality = Schema.Literal("hifi", "lossless", "high", "medium", "low")
export type Quality = typeof Quality.Type
