/**
 * OrpheusDL's path formats: Python `str.format` templates such as
 * `{track_number}. {name}` or `{artist}/{name}{explicit}`. `{{` and `}}` are
 * literal braces; a field may carry a string format spec (`{name:.40}`,
 * `{track_number:>03}`) and a `!s` conversion. Every value is a string, as in
 * OrpheusDL, where values are sanitized to strings before formatting.
 */

interface Literal {
  readonly _tag: "Literal"
  readonly text: string
}

interface Field {
  readonly _tag: "Field"
  readonly name: string
  readonly spec: Spec | undefined
}

/** `[[fill]align][0][width][.precision][s]`, the part of Python's mini-language that applies to strings. */
interface Spec {
  readonly fill: string
  readonly align: "<" | ">" | "^" | undefined
  readonly zero: boolean
  readonly width: number
  readonly precision: number | undefined
}

export interface PathTemplate {
  readonly source: string
  readonly parts: ReadonlyArray<Literal | Field>
  /** The variables it names, in order of first use. */
  readonly variables: ReadonlyArray<string>
}

/** A template that cannot be read, or that names a variable the format does not have. */
export type TemplateProblem = string

const SPEC = /^(?:(.)?([<>^]))?(0)?(\d+)?(?:\.(\d+))?s?$/su

const parseSpec = (raw: string): Spec | TemplateProblem => {
  const match = SPEC.exec(raw)
  if (match === null) return `unsupported format spec ":${raw}" (strings take [[fill]align][width][.precision])`
  const [, fill, align, zero, width, precision] = match
  return {
    fill: fill ?? (zero !== undefined ? "0" : " "),
    align: align as Spec["align"],
    zero: zero !== undefined,
    width: width === undefined ? 0 : Number(width),
    precision: precision === undefined ? undefined : Number(precision)
  }
}

/** Reads a template, checking every field against `known` variable names. */
export const parseTemplate = (
  source: string,
  known: ReadonlyArray<string>
): PathTemplate | TemplateProblem => {
  const parts: Array<Literal | Field> = []
  const variables: Array<string> = []
  let text = ""
  let i = 0
  while (i < source.length) {
    const char = source[i]!
    if (char === "}") {
      if (source[i + 1] !== "}") return `a single "}" at position ${i + 1} (write "}}" for a literal brace)`
      text += "}"
      i += 2
      continue
    }
    if (char !== "{") {
      text += char
      i++
      continue
    }
    if (source[i + 1] === "{") {
      text += "{"
      i += 2
      continue
    }
    const end = source.indexOf("}", i + 1)
    if (end === -1) return `a "{" at position ${i + 1} is never closed (write "{{" for a literal brace)`
    const body = source.slice(i + 1, end)
    if (body.includes("{")) return `nested braces in "{${body}}" are not supported`
    const colon = body.indexOf(":")
    const head = colon === -1 ? body : body.slice(0, colon)
    const conversion = /^(.*?)(?:!([sra]))?$/s.exec(head)!
    const name = conversion[1]!.trim()
    if (name === "") return `an empty field "{${body}}" (name a variable, e.g. {name})`
    if (!/^[a-z_][a-z0-9_]*$/i.test(name)) return `"{${body}}" is not a variable (indexing and attributes are not supported)`
    if (!known.includes(name)) {
      return `unknown variable {${name}} (available: ${known.map((k) => `{${k}}`).join(", ")})`
    }
    const spec = colon === -1 ? undefined : parseSpec(body.slice(colon + 1))
    if (typeof spec === "string") return spec
    if (text !== "") parts.push({ _tag: "Literal", text })
    text = ""
    parts.push({ _tag: "Field", name, spec })
    if (!variables.includes(name)) variables.push(name)
    i = end + 1
  }
  if (text !== "") parts.push({ _tag: "Literal", text })
  return { source, parts, variables }
}

const applySpec = (value: string, spec: Spec): string => {
  const chars = [...value]
  const cut = spec.precision === undefined ? chars : chars.slice(0, spec.precision)
  const pad = Math.max(0, spec.width - cut.length)
  const body = cut.join("")
  if (pad === 0) return body
  // A bare `0` flag pads on the left, the way `{track_number:02}` is meant.
  const align = spec.align ?? (spec.zero ? ">" : "<")
  const fill = (n: number) => spec.fill.repeat(n)
  return align === ">"
    ? fill(pad) + body
    : align === "^"
    ? fill(Math.floor(pad / 2)) + body + fill(Math.ceil(pad / 2))
    : body + fill(pad)
}

/** Fills a template in; a variable with no value renders as an empty string, as OrpheusDL renders `None`. */
export const renderTemplate = (template: PathTemplate, values: Readonly<Record<string, string | undefined>>): string =>
  template.parts.map((part) => {
    if (part._tag === "Literal") return part.text
    const value = values[part.name] ?? ""
    return part.spec === undefined ? value : applySpec(value, part.spec)
  }).join("")
