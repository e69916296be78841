import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Context from "effect/Context"
import type { HttpBody, OpenedBody } from "../domain/TrackSource.js"
import type { MusicApiError } from "./MusicApiError.js"

/**
 * Fetches track bytes that a provider names by URL: pooled keep-alive
 * connections, a Range request to resume, and HTTP statuses turned into the
 * typed errors (429/503 with Retry-After, 404, 401/403, 5xx).
 */
export class Transport extends Context.Tag("lyra/Transport")<Transport, {
  readonly open: (provider: string, body: HttpBody, offset: number) => Effect.Effect<OpenedBody, MusicApiError, Scope.Scope>
}>() {}
