import * as Args from "@effect/cli/Args"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Effect from "effect/Effect"

/**
 * @effect/cli hands an unknown `--option` placed after variadic arguments to
 * those arguments; a word that looks like an option is refused instead.
 */
export const refuseOptionLike = <A extends ReadonlyArray<string>>(self: Args.Args<A>): Args.Args<A> =>
  Args.mapEffect(self, (words) => {
    const option = words.find((word) => word.startsWith("-"))
    return option === undefined
      ? Effect.succeed(words)
      : Effect.fail(HelpDoc.p(`unknown option "${option}"`))
  })
