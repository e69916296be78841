import * as Context from "effect/Context"
import type { Provider } from "./Provider.js"

/** The providers this run knows, by name. The entry point decides which are in it. */
export class ProviderRegistry extends Context.Tag("lyra/ProviderRegistry")<
  ProviderRegistry,
  ReadonlyMap<string, Provider>
>() {}
