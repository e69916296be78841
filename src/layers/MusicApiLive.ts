import type * as ParseResult from "effect/ParseResult"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Schema from "effect/Schema"
import { Album } from "../domain/Album.js"
import { Artist } from "../domain/Artist.js"
import type { MediaKind } from "../domain/MediaRef.js"
import { MediaRef, parseShorthand } from "../domain/MediaRef.js"
import { Playlist } from "../domain/Playlist.js"
import type { SearchResult } from "../domain/SearchResult.js"
import { Track } from "../domain/Track.js"
import { UsageError } from "../domain/UsageError.js"
import { loggedRequest } from "../engine/loggedRequest.js"
import { retryingWithProgress } from "../engine/retrying.js"
import { JobStore } from "../services/JobStore.js"
import type { ApiError } from "../services/MusicApi.js"
import { MusicApi } from "../services/MusicApi.js"
import { NotFoundError } from "../services/MusicApiError.js"
import type { Provider } from "../services/Provider.js"
import { ProviderRegistry } from "../services/ProviderRegistry.js"
import { Progress } from "../services/Progress.js"
import { RateLimiter } from "../services/RateLimiter.js"
import { RetryPolicy } from "../services/RetryPolicy.js"

class GetTrack extends Request.TaggedClass("GetTrack")<Track, ApiError, {
  readonly provider: string
  readonly id: string
}> {}

class GetAlbum extends Request.TaggedClass("GetAlbum")<Album, ApiError, {
  readonly provider: string
  readonly id: string
}> {}

class GetArtist extends Request.TaggedClass("GetArtist")<Artist, ApiError, {
  readonly provider: string
  readonly id: string
}> {}

class GetPlaylist extends Request.TaggedClass("GetPlaylist")<Playlist, ApiError, {
  readonly provider: string
  readonly id: string
}> {}

class Search extends Request.TaggedClass("Search")<ReadonlyArray<SearchResult>, ApiError, {
  readonly provider: string
  readonly kind: MediaKind
  readonly query: string
  readonly limit: number
}> {}

/** Most services cap how many ids one batch call may name. */
const maxBatch = 100

/** A metadata answer to and from the JSON the JobStore's cache holds. */
interface JsonCodec<A> {
  readonly decode: (json: unknown) => Effect.Effect<A, ParseResult.ParseError>
  readonly encode: (value: A) => Effect.Effect<string, ParseResult.ParseError>
}

/**
 * MusicApi over the registered providers. Every provider call is an Effect
 * request, admitted by the RateLimiter and retried on the RetryPolicy's
 * schedule inside its resolver, so a cached answer is always a final one.
 */
export const layer: Layer.Layer<MusicApi, never, ProviderRegistry | RateLimiter | RetryPolicy | Progress | JobStore> =
  Layer
  .effect(
    MusicApi,
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const limiter = yield* RateLimiter
      const policy = yield* RetryPolicy
      const progress = yield* Progress
      const store = yield* JobStore
      const known = [...registry.keys()].join(", ")

      const providerNamed = (name: string): Effect.Effect<Provider, UsageError> => {
        const provider = registry.get(name)
        return provider === undefined
          ? new UsageError({ message: `unknown provider "${name}" (available: ${known})` })
          : Effect.succeed(provider)
      }

      /** One raw provider call under the limits, retried on transient failures. */
      const guarded = <A>(provider: string, operation: string, call: Effect.Effect<A, ApiError>) =>
        limiter.call(provider, loggedRequest(provider, operation)(call)).pipe(
          retryingWithProgress(policy, progress, provider, operation)
        )

      /**
       * Each schema's JSON codec, built once: a parser is compiled per schema
       * instance, and `parseJson(schema)` made anew per call was compiled per call.
       */
      const codecs = new WeakMap<object, JsonCodec<any>>()
      const codecOf = <A, I>(schema: Schema.Schema<A, I>): JsonCodec<A> => {
        let codec = codecs.get(schema)
        if (codec === undefined) {
          const json = Schema.parseJson(schema)
          codec = { decode: Schema.decodeUnknown(json), encode: Schema.encode(json) }
          codecs.set(schema, codec)
        }
        return codec
      }

      /** A metadata answer from the JobStore's cache, if it is there and still reads; store trouble is a miss. */
      const fromCache = <A, I>(schema: Schema.Schema<A, I>, key: string): Effect.Effect<Option.Option<A>> =>
        store.cached(key).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (json) => Effect.option(codecOf(schema).decode(json))
          })),
          Effect.orElseSucceed(() => Option.none<A>())
        )
      const toCache = <A, I>(schema: Schema.Schema<A, I>, key: string, value: A): Effect.Effect<void> =>
        codecOf(schema).encode(value).pipe(
          Effect.flatMap((json) => store.cache(key, json)),
          Effect.ignore
        )
      /** Answers from the cache when it can, and caches what the provider answers. */
      const remembered = <A, I>(schema: Schema.Schema<A, I>, key: string, call: Effect.Effect<A, ApiError>) =>
        Effect.flatMap(fromCache(schema, key), Option.match({
          onNone: () => Effect.tap(call, (value) => toCache(schema, key, value)),
          onSome: Effect.succeed
        }))

      const single = <Req extends Request.Request<any, ApiError> & { readonly provider: string; readonly id: string }, I>(
        operation: MediaKind,
        schema: Schema.Schema<Request.Request.Success<Req>, I>,
        call: (provider: Provider, request: Req) => Effect.Effect<Request.Request.Success<Req>, ApiError>
      ): RequestResolver.RequestResolver<Req> =>
        RequestResolver.fromEffect((request: Req) =>
          Effect.flatMap(
            providerNamed(request.provider),
            (provider) =>
              remembered(
                schema,
                `${provider.name}:${operation}:${request.id}`,
                guarded(provider.name, operation, call(provider, request))
              )
          ) as Effect.Effect<Request.Request.Success<Req>, Request.Request.Error<Req>>
        )

      const trackResolver = RequestResolver.makeBatched((requests: Arr.NonEmptyArray<GetTrack>) =>
        Effect.forEach(
          Object.entries(Arr.groupBy(requests, (request) => request.provider)),
          ([name, group]) =>
            Effect.flatMap(Effect.either(providerNamed(name)), (found) => {
              if (found._tag === "Left") {
                return Effect.forEach(group, (request) => Request.fail(request, found.left), { discard: true })
              }
              const provider = found.right
              const batch = provider.tracks
              const key = (request: GetTrack) => `${name}:track:${request.id}`
              return Effect.gen(function*() {
                const misses: Array<GetTrack> = []
                // One read of the cache for the whole batch, not one per track; store trouble is a miss.
                const cached = yield* store.cachedAmong(group.map(key)).pipe(
                  Effect.orElseSucceed((): ReadonlyMap<string, string> => new Map())
                )
                for (const request of group) {
                  const json = cached.get(key(request))
                  const hit = json === undefined ? Option.none<Track>() : yield* Effect.option(codecOf(Track).decode(json))
                  if (Option.isSome(hit)) yield* Request.succeed(request, hit.value)
                  else misses.push(request)
                }
                if (batch === undefined) {
                  return yield* Effect.forEach(
                    misses,
                    (request) =>
                      Request.completeEffect(
                        request,
                        remembered(Track, key(request), guarded(name, "track", provider.track(request.id)))
                      ),
                    { concurrency: "unbounded", discard: true }
                  )
                }
                yield* Effect.forEach(
                  Arr.chunksOf(misses, maxBatch),
                  (chunk) =>
                    guarded(name, "tracks", batch(chunk.map((request) => request.id))).pipe(
                      Effect.exit,
                      Effect.flatMap((exit) =>
                        Effect.forEach(chunk, (request) => {
                          if (exit._tag === "Failure") return Request.failCause(request, exit.cause)
                          const track = exit.value.find((t) => t.id === request.id)
                          return track === undefined
                            ? Request.fail(request, new NotFoundError({ provider: name, what: `track ${request.id}` }))
                            : Effect.zipRight(toCache(Track, key(request), track), Request.succeed(request, track))
                        }, { discard: true })
                      )
                    ),
                  { concurrency: "unbounded", discard: true }
                )
              })
            }),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.asVoid)
      ).pipe(RequestResolver.batchN(maxBatch * 10))

      const albumResolver = single("album", Album as Schema.Schema<Album, any>, (p, r: GetAlbum) => p.album(r.id))
      const artistResolver = single("artist", Artist as Schema.Schema<Artist, any>, (p, r: GetArtist) => p.artist(r.id))
      const playlistResolver = single("playlist", Playlist as Schema.Schema<Playlist, any>, (p, r: GetPlaylist) => p.playlist(r.id))
      // Search answers are kept for the job only: what a search finds changes.
      const searchResolver = RequestResolver.fromEffect((request: Search) =>
        Effect.flatMap(providerNamed(request.provider), (provider) =>
          guarded(provider.name, "search", provider.search(request.kind, request.query, request.limit)))
      )

      const resolve = (input: string): Effect.Effect<MediaRef, UsageError> => {
        const shorthand = parseShorthand(input)
        if (typeof shorthand === "string") return new UsageError({ message: shorthand })
        if (shorthand !== undefined) {
          return Effect.flatMap(providerNamed(shorthand.provider), (provider) =>
            provider.capabilities.kinds.includes(shorthand.kind)
              ? Effect.as(provider.ready ?? Effect.void, shorthand)
              : new UsageError({ message: `provider "${provider.name}" has no ${shorthand.kind}s` }))
        }
        for (const provider of registry.values()) {
          const ref = provider.parseUrl(input)
          if (ref !== undefined) return Effect.as(provider.ready ?? Effect.void, new MediaRef(ref))
        }
        return new UsageError({
          message: `cannot read "${input}": expected <provider>:<kind>:<id> (e.g. sim:artist:1) or a provider URL`
        })
      }

      return MusicApi.of({
        providers: [...registry.values()].map(({ capabilities, description, name }) => ({
          name,
          description,
          capabilities
        })),
        resolve,
        track: (provider, id) => Effect.request(new GetTrack({ provider, id }), trackResolver),
        album: (provider, id) => Effect.request(new GetAlbum({ provider, id }), albumResolver),
        artist: (provider, id) => Effect.request(new GetArtist({ provider, id }), artistResolver),
        playlist: (provider, id) => Effect.request(new GetPlaylist({ provider, id }), playlistResolver),
        search: (provider, kind, query, limit) =>
          Effect.request(new Search({ provider, kind, query, limit }), searchResolver),
        source: (track, quality) =>
          Effect.flatMap(
            providerNamed(track.provider),
            (provider) =>
              provider.localSource === true
                ? provider.source(track, quality)
                : guarded(provider.name, "source", provider.source(track, quality))
          ),
        cover: (track, resolution) =>
          Effect.flatMap(providerNamed(track.provider), (provider) =>
            provider.cover === undefined
              ? Effect.succeed(undefined)
              : guarded(provider.name, "cover", provider.cover(track, resolution))),
        lyrics: (track) =>
          Effect.flatMap(providerNamed(track.provider), (provider) =>
            provider.lyrics === undefined
              ? Effect.succeed(undefined)
              : guarded(provider.name, "lyrics", provider.lyrics(track)))
      })
    })
  )
