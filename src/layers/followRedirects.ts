import type { HttpClientResponse } from "@effect/platform"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"

export interface RedirectPolicy {
  /** The most redirects one request follows; one more fails. */
  readonly maxRedirects: number
  /**
   * Query parameters that carry credentials (lower case): their values never
   * go to another origin. Subsonic signs every request in its query.
   */
  readonly credentialParams: ReadonlySet<string>
}

export const defaultRedirectPolicy: RedirectPolicy = {
  maxRedirects: 5,
  credentialParams: new Set(["u", "p", "t", "s", "apikey", "api_key", "password", "token", "salt", "key", "access_token"])
}

/** Headers that say how to fetch, not who asks: the only ones sent on to another origin. */
const portableHeaders = new Set(["accept", "accept-encoding", "accept-language", "range", "if-range", "user-agent"])

const redirectStatuses = new Set([301, 302, 303, 307, 308])

const fullUrl = (request: HttpClientRequest.HttpClientRequest): URL | undefined =>
  Either.getOrUndefined(UrlParams.makeUrl(request.url, request.urlParams, request.hash))

/** Ends a redirect's body without waiting for it, freeing its connection. */
const discard = (response: HttpClientResponse.HttpClientResponse) =>
  Stream.runDrain(Stream.interruptWhen(response.stream, Effect.void)).pipe(Effect.ignore)

/**
 * The request to send to `target`. Within one origin it is the same request;
 * to another origin it keeps only the portable headers and loses every query
 * value that was a credential here, so a redirect never hands them to a
 * host the user did not name.
 */
const retarget = (
  request: HttpClientRequest.HttpClientRequest,
  from: URL,
  target: URL,
  policy: RedirectPolicy
): HttpClientRequest.HttpClientRequest => {
  if (target.origin === from.origin) return HttpClientRequest.setUrl(request, target)
  const secrets = new Set<string>()
  for (const [name, value] of from.searchParams) {
    if (policy.credentialParams.has(name.toLowerCase()) && value !== "") secrets.add(value)
  }
  const clean = new URL(target.href)
  clean.username = ""
  clean.password = ""
  clean.search = new URLSearchParams([...target.searchParams].filter(([, value]) => !secrets.has(value))).toString()
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => portableHeaders.has(name)))
  return HttpClientRequest.make(request.method as "GET")(clean, { headers })
}

/**
 * An HttpClient that follows redirects of GET and HEAD requests under a
 * policy: only to http(s), never from https down to http, at most
 * `maxRedirects` in a row, and without credentials to another origin (see
 * `retarget`). A redirect it refuses fails as a `StatusCode` ResponseError
 * whose description says why, in words that hold no URL (it may carry
 * credentials).
 */
export const followRedirects = (
  client: HttpClient.HttpClient,
  policy: RedirectPolicy = defaultRedirectPolicy
): HttpClient.HttpClient =>
  HttpClient.transform(client, (first, original) => {
    const refuse = (response: HttpClientResponse.HttpClientResponse, description: string) =>
      Effect.zipRight(
        discard(response),
        Effect.fail(
          new HttpClientError.ResponseError({ request: response.request, response, reason: "StatusCode", description })
        )
      )
    const follow = (
      response: HttpClientResponse.HttpClientResponse,
      request: HttpClientRequest.HttpClientRequest,
      hops: number
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
      const location = response.headers["location"]
      if (!redirectStatuses.has(response.status) || location === undefined || location === "") {
        return Effect.succeed(response)
      }
      if (request.method !== "GET" && request.method !== "HEAD") return Effect.succeed(response)
      if (hops >= policy.maxRedirects) {
        return refuse(response, `redirects: more than ${policy.maxRedirects} in a row (a loop?)`)
      }
      const from = fullUrl(request)
      let target: URL | undefined
      try {
        target = from === undefined ? undefined : new URL(location, from)
      } catch {
        target = undefined
      }
      if (from === undefined || target === undefined) return refuse(response, "redirect to an unreadable location")
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        return refuse(response, `redirect to ${target.protocol} refused (only http and https are followed)`)
      }
      if (from.protocol === "https:" && target.protocol === "http:") {
        return refuse(response, "redirect from https down to http refused")
      }
      const next = retarget(request, from, target, policy)
      return discard(response).pipe(
        Effect.zipRight(client.execute(next)),
        Effect.flatMap((answer) => follow(answer, next, hops + 1))
      )
    }
    return Effect.flatMap(first, (response) => follow(response, original, 0))
  })
