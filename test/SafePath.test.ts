import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"
import { isInside, normalizeRelative, planPath, sanitizeSegment } from "../src/domain/SafePath.js"

const bytes = (text: string) => Buffer.byteLength(text, "utf8")

describe("sanitizeSegment", () => {
  it("keeps ordinary names as they are", () => {
    assert.strictEqual(sanitizeSegment("Abbey Road (Remastered 2019)"), "Abbey Road (Remastered 2019)")
    assert.strictEqual(sanitizeSegment("Sigur Rós"), "Sigur Rós")
    assert.strictEqual(sanitizeSegment("坂本龍一"), "坂本龍一")
  })

  it("turns traversal into a plain name", () => {
    assert.strictEqual(sanitizeSegment("../../etc/passwd"), "_._.._etc_passwd")
    assert.strictEqual(sanitizeSegment(".."), "_")
    assert.strictEqual(sanitizeSegment("."), "_")
    assert.strictEqual(sanitizeSegment("..."), "_")
  })

  it("never yields a separator or an absolute path", () => {
    assert.strictEqual(sanitizeSegment("/etc/passwd"), "_etc_passwd")
    assert.strictEqual(sanitizeSegment("C:\\x"), "C__x")
    assert.strictEqual(sanitizeSegment("\\\\server\\share"), "__server_share")
  })

  it("replaces the characters Windows forbids", () => {
    assert.strictEqual(sanitizeSegment("What? <Live> \"A|B\" *:*"), "What_ _Live_ _A_B_ ___")
  })

  it("drops NUL and control characters, and reads line breaks as spaces", () => {
    assert.strictEqual(sanitizeSegment("a\u0000b\u0007c\u007Fd\u0085e\u009Ff"), "abcdef")
    assert.strictEqual(sanitizeSegment("Line one\r\nLine\ttwo"), "Line one Line two")
    assert.strictEqual(sanitizeSegment("\u0000"), "_")
  })

  it("drops direction marks that could disguise a name", () => {
    assert.strictEqual(sanitizeSegment("evil\u202Egnp.exe"), "evilgnp.exe")
    assert.strictEqual(sanitizeSegment("\u200Fשלום\u200E"), "שלום")
    assert.strictEqual(sanitizeSegment("\u2066a\u2067b\u2068c\u2069\u061C"), "abc")
  })

  it("collapses whitespace and trims leading spaces, trailing dots and spaces", () => {
    assert.strictEqual(sanitizeSegment("  So   much \u00A0 space  "), "So much space")
    assert.strictEqual(sanitizeSegment("Album..."), "Album")
    assert.strictEqual(sanitizeSegment("Album. . ."), "Album")
    assert.strictEqual(sanitizeSegment("   "), "_")
    assert.strictEqual(sanitizeSegment(""), "_")
  })

  it("makes hidden names visible", () => {
    assert.strictEqual(sanitizeSegment(".hidden"), "_hidden")
    assert.strictEqual(sanitizeSegment(" .config"), "_config")
  })

  it("prefixes Windows device names, with or without an extension", () => {
    for (const name of ["CON", "con", "Prn", "AUX", "nul", "COM1", "com9", "LPT0", "lpt5", "con.txt", "NUL.tar.gz"]) {
      assert.strictEqual(sanitizeSegment(name), `_${name}`)
    }
    for (const name of ["CONSOLE", "Icon", "COM10", "conx.txt", "LPT"]) {
      assert.strictEqual(sanitizeSegment(name), name)
    }
  })

  it("normalizes to NFC", () => {
    const decomposed = "Beyonce\u0301"
    assert.strictEqual(sanitizeSegment(decomposed), "Beyoncé")
    assert.strictEqual(sanitizeSegment(decomposed), sanitizeSegment("Beyonc\u00E9"))
  })

  it("keeps emoji, including joined sequences", () => {
    assert.strictEqual(sanitizeSegment("🎸 Rock 👩‍👩‍👧"), "🎸 Rock 👩‍👩‍👧")
  })

  it("cuts a 1,000-character title to 255 bytes", () => {
    const ascii = sanitizeSegment("a".repeat(1000))
    assert.strictEqual(ascii, "a".repeat(255))
    const accented = sanitizeSegment("é".repeat(1000))
    assert.strictEqual(accented, "é".repeat(127))
    assert.isAtMost(bytes(accented), 255)
  })

  it("never splits a surrogate pair or an emoji sequence", () => {
    const emoji = sanitizeSegment("🎵".repeat(1000))
    assert.strictEqual(emoji, "🎵".repeat(63))
    assert.notInclude(emoji, "\uFFFD")
    const family = sanitizeSegment("👩‍👩‍👧".repeat(100))
    assert.strictEqual(family, "👩‍👩‍👧".repeat(Math.floor(255 / bytes("👩‍👩‍👧"))))
  })

  it("does not leave a combining mark dangling", () => {
    const name = sanitizeSegment("x".repeat(253) + "e\u0301\u0301")
    assert.strictEqual(name, "x".repeat(253))
  })

  it("trims dots exposed by the cut", () => {
    assert.strictEqual(sanitizeSegment("a".repeat(254) + ". tail"), "a".repeat(254))
  })

  it("keeps a long reserved name within the limit", () => {
    const name = sanitizeSegment("con." + "x".repeat(300))
    assert.isTrue(name.startsWith("_con."))
    assert.strictEqual(bytes(name), 255)
  })

  it("drops lone surrogates", () => {
    assert.strictEqual(sanitizeSegment("a\uD800b\uDC00c"), "abc")
  })
})

describe("planPath", () => {
  it("joins sanitized segments and appends the extension", () => {
    assert.strictEqual(
      planPath(["AC/DC", "Back in Black", "01 - Hells Bells"], "FLAC"),
      "AC_DC/Back in Black/01 - Hells Bells.flac"
    )
  })

  it("sanitizes the extension to lower case without a dot", () => {
    assert.strictEqual(planPath(["a"], ".M4A"), "a.m4a")
    assert.strictEqual(planPath(["a"], "../x"), "a._x")
    assert.strictEqual(planPath(["a"], ""), "a")
  })

  it("keeps the extension when the stem is cut", () => {
    const path = planPath(["Artist", "t".repeat(1000)], "flac")
    const name = path.split("/")[1] ?? ""
    assert.isTrue(name.endsWith(".flac"))
    assert.strictEqual(bytes(name), 255)
  })

  it("treats a reserved stem as reserved", () => {
    assert.strictEqual(planPath(["con"], "txt"), "_con.txt")
  })

  it("gives a name even with no segments", () => {
    assert.strictEqual(planPath([], "flac"), "_.flac")
  })
})

describe("normalizeRelative", () => {
  it("accepts a planned path", () => {
    assert.deepStrictEqual(normalizeRelative("a/b/c.flac"), Option.some("a/b/c.flac"))
    assert.deepStrictEqual(normalizeRelative("a/./b//c.flac"), Option.some("a/b/c.flac"))
  })

  it("refuses anything that could leave the root", () => {
    for (const path of ["", ".", "..", "../x", "a/../../x", "/etc/passwd", "C:\\x", "C:x", "a\\..\\..\\x", "a\0b", "a/"]) {
      assert.isTrue(Option.isNone(normalizeRelative(path)), path)
    }
  })
})

describe("isInside", () => {
  it("tells inside from outside", () => {
    assert.isTrue(isInside("/lib", "/lib/a/b.flac"))
    assert.isTrue(isInside("/lib", "/lib/..hidden"))
    assert.isFalse(isInside("/lib", "/lib"))
    assert.isFalse(isInside("/lib", "/library/a"))
    assert.isFalse(isInside("/lib", "/etc/passwd"))
    assert.isFalse(isInside("/lib", "/lib/../etc"))
  })
})

const nastyUnit = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.integer({ min: 0xD800, max: 0xDFFF }).map((code) => String.fromCharCode(code)) }),
  fc.string({ unit: fc.constantFrom(".", "/", "\\", " ", "\0", ":", "\u202E", "\u0301", "🎵", "é", "\n") }),
  fc.constantFrom("", ".", "..", "...", "con", "LPT1.txt", " . ", "C:\\", "/"),
  fc.string({ unit: "grapheme", minLength: 200, maxLength: 1000 })
)

describe("planned paths", () => {
  it.prop(
    "stay inside the root, with every component non-empty and at most 255 bytes",
    [fc.array(nastyUnit, { maxLength: 6 }), nastyUnit],
    ([segments, extension]) => {
      const root = "/library"
      const planned = planPath(segments, extension)
      const components = planned.split("/")
      assert.strictEqual(components.length, Math.max(segments.length, 1))
      for (const component of components) {
        assert.isAbove(component.length, 0)
        assert.isAtMost(bytes(component), 255)
        assert.notInclude(["", ".", ".."], component)
        assert.notInclude(component, "\0")
      }
      assert.isTrue(isInside(root, NodePath.resolve(root, planned)))
      assert.deepStrictEqual(normalizeRelative(planned), Option.some(planned))
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it.prop("sanitizing is idempotent", [nastyUnit], ([raw]) => {
    const once = sanitizeSegment(raw)
    assert.strictEqual(sanitizeSegment(once), once)
  }, { fastCheck: { numRuns: 2000 } })
})
