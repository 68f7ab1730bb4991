/**
 * Splits a SQL script into statements at top-level semicolons.
 *
 * sql-pg sends every statement with the extended query protocol, whose
 * `Parse` message takes one statement, so a migration file is sent one
 * statement at a time. Semicolons inside quoted literals and identifiers,
 * escape strings (`E'...'`), dollar-quoted bodies (`$fn$ ... $fn$`), line
 * comments and nested block comments do not split.
 */

const DOLLAR_TAG = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/

/** Returns the index just past the closing quote of a literal opened at `start`. */
const skipQuoted = (text: string, start: number, quote: string, backslashEscapes: boolean) => {
  let index = start + 1
  while (index < text.length) {
    const char = text[index]
    if (backslashEscapes && char === "\\") {
      index += 2
    } else if (char === quote) {
      // A doubled quote is an escaped quote, not the end of the literal.
      if (text[index + 1] !== quote) return index + 1
      index += 2
    } else {
      index += 1
    }
  }
  return index
}

const skipBlockComment = (text: string, start: number) => {
  let depth = 0
  let index = start
  while (index < text.length) {
    if (text.startsWith("/*", index)) {
      depth += 1
      index += 2
    } else if (text.startsWith("*/", index)) {
      depth -= 1
      index += 2
      if (depth === 0) return index
    } else {
      index += 1
    }
  }
  return index
}

const isEscapeStringPrefix = (text: string, quoteIndex: number) => {
  const prefix = text[quoteIndex - 1]
  if (prefix !== "E" && prefix !== "e") return false
  // `E'...'` only when the E starts a token, not when it ends a name like `type'`.
  const before = text[quoteIndex - 2]
  return before === undefined || !/[A-Za-z0-9_$]/.test(before)
}

/** A tag is at most a 63-byte name between two `$`. */
const MAX_TAG_LENGTH = 65

/** Returns the dollar-quote tag opening at `index`, if any. */
const dollarTagAt = (text: string, index: number): string | undefined => {
  // A `$` inside a name such as `a$b` is part of the name, not an opening tag.
  if (/[A-Za-z0-9_]/.test(text[index - 1] ?? " ")) return undefined
  return DOLLAR_TAG.exec(text.slice(index, index + MAX_TAG_LENGTH))?.[0]
}

/** Splits `script` into trimmed statements without their semicolons, dropping empty ones. */
export const splitStatements = (script: string): ReadonlyArray<string> => {
  const statements: Array<string> = []
  let start = 0
  let hasCode = false
  let index = 0

  const finish = (end: number) => {
    if (hasCode) statements.push(script.slice(start, end).trim())
    start = end + 1
    hasCode = false
  }

  while (index < script.length) {
    const char = script[index]!
    const tag = char === "$" ? dollarTagAt(script, index) : undefined
    if (char === "-" && script[index + 1] === "-") {
      const newline = script.indexOf("\n", index)
      index = newline === -1 ? script.length : newline + 1
    } else if (char === "/" && script[index + 1] === "*") {
      index = skipBlockComment(script, index)
    } else if (char === "'" || char === '"') {
      const backslashEscapes = char === "'" && isEscapeStringPrefix(script, index)
      index = skipQuoted(script, index, char, backslashEscapes)
      hasCode = true
    } else if (tag !== undefined) {
      const close = script.indexOf(tag, index + tag.length)
      index = close === -1 ? script.length : close + tag.length
      hasCode = true
    } else if (char === ";") {
      finish(index)
      index += 1
    } else {
      if (!/\s/.test(char)) hasCode = true
      index += 1
    }
  }
  finish(script.length)
  return statements
}
